// The console in a real browser: Debian's Chromium, driven by
// playwright-core, against a real `warden serve` (console.enabled) after a
// scripted load through the OpenAI-compatible API. Run by run.sh, which
// builds and starts the gateway and passes:
//
//	WARDEN_URL   the gateway's base URL
//	ADMIN_KEY    an API key with the admin role (signs in to the console)
//	APP_KEYS     comma-separated API keys of two callers (the load)
//	CHROMIUM     the browser (default /usr/bin/chromium)
//	SHOTS        where screenshots go (default ./screenshots)
//
// Every page is checked with axe-core (no serious or critical
// violation), and the run fails on any console error, page error or CSP
// violation (the console's CSP is enforced: script-src 'self';
// style-src 'self').
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const URL_ = process.env.WARDEN_URL;
const ADMIN_KEY = process.env.ADMIN_KEY;
const APP_KEYS = (process.env.APP_KEYS || '').split(',').filter(Boolean);
const SHOTS = process.env.SHOTS || join(import.meta.dirname, 'screenshots');
const CONSOLE = URL_ + '/console/';
assert.ok(URL_ && ADMIN_KEY && APP_KEYS.length >= 2, 'WARDEN_URL, ADMIN_KEY and two APP_KEYS are needed (run.sh sets them)');

// Values the load sends; detection turns them into tokens.
const EMAIL = 'jane.roe+console@example.org';
const CARD = '4111 1111 1111 1111';
const AWS = 'AKIA2QX7N4M9RB3TLV6P';

let ctx;
let page;
let userDir;
const problems = []; // console errors, page errors, CSP violations
const axeReport = []; // per page: violations by impact
// Console errors a test expects (a 401 it provokes); each is consumed once.
const expected = [];

function expectConsoleError(re) {
  expected.push(re);
}

async function chat(key, content, model = 'gpt-4o-mini') {
  const r = await fetch(URL_ + '/v1/chat/completions', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  await r.arrayBuffer();
  return r.status;
}

async function load() {
  const statuses = [];
  // Two batches a little over a second apart: the log signs a checkpoint
  // every second, so the consistency check has two to compare.
  for (let batch = 0; batch < 2; batch++) {
    const jobs = [];
    for (let i = 0; i < 6; i++) {
      jobs.push(chat(APP_KEYS[i % 2], `Please email ${EMAIL} about the order ${batch}-${i}.`));
      if (i % 2 === 0) jobs.push(chat(APP_KEYS[0], `Charge card ${CARD} for invoice ${batch}-${i}, then write to ${EMAIL}.`, 'claude-test'));
    }
    // Refused: a credential in the prompt, and a model the key may not call.
    jobs.push(chat(APP_KEYS[1], `Deploy with aws key ${AWS} please (${batch}).`));
    jobs.push(chat(APP_KEYS[1], `Hello (${batch}).`, 'gpt-4o'));
    statuses.push(...(await Promise.all(jobs)));
    await new Promise((r) => setTimeout(r, 1300));
  }
  return statuses;
}

async function axe(name) {
  await page.evaluate(AXE); // through the DevTools protocol: not an inline script, so CSP is not bypassed for the page
  const res = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] }),
  );
  const byImpact = {};
  for (const v of res.violations) byImpact[v.impact] = (byImpact[v.impact] || 0) + v.nodes.length;
  axeReport.push({ page: name, violations: res.violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`) });
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`),
    [],
    `axe: serious or critical violations on ${name}`,
  );
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

async function go(linkName, heading) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: linkName, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const statuses = await load();
  const ok = statuses.filter((s) => s === 200).length;
  const refused = statuses.filter((s) => s >= 400).length;
  assert.ok(ok >= 12 && refused >= 4, `the load: ${ok} answered, ${refused} refused (${statuses.join(' ')})`);
  userDir = mkdtempSync(join(tmpdir(), 'warden-console-chromium-'));
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
    colorScheme: 'light',
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  // CSP violations as the page sees them (and Chromium also logs each one
  // as a console error).
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
  });
  page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(15000);
  page.on('console', (m) => {
    if (m.type() !== 'error' && !/Content Security Policy|CSP/i.test(m.text())) return;
    const text = `${m.text()} @ ${m.location().url || ''}`;
    const i = expected.findIndex((re) => re.test(text));
    if (i >= 0) {
      expected.splice(i, 1);
      return;
    }
    problems.push('console: ' + text);
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
});

after(async () => {
  await ctx?.close();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  console.log('axe results (all impacts):');
  for (const r of axeReport) console.log(`  ${r.page}: ${r.violations.length ? r.violations.join(', ') : 'no violations'}`);
});

test('the console is served with its CSP and security headers', async () => {
  const r = await fetch(CONSOLE);
  assert.equal(r.status, 200);
  const csp = r.headers.get('content-security-policy') || '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await r.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline style');
  assert.doesNotMatch(html, /https?:\/\//, 'no third-party asset');
});

test('sign in: a wrong key is refused, an admin key signs in', async () => {
  // Before sign-in the app asks who is signed in: a 401.
  expectConsoleError(/401.*\/console\/api\/session/);
  await page.goto(CONSOLE);
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  await axe('sign-in');
  await shot('sign-in');
  expectConsoleError(/401.*\/console\/api\/session/);
  await page.getByLabel('API key', { exact: true }).fill('wdn_not-a-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  await page.getByLabel('API key', { exact: true }).fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  const cookies = await ctx.cookies(CONSOLE);
  const c = cookies.find((x) => x.name === 'warden_console');
  assert.ok(c, 'session cookie set');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.ok(!c.value.includes(ADMIN_KEY), 'the cookie is not the key');
});

test('overview shows the traffic of the load', async () => {
  const requests = page.locator('.stat', { hasText: 'Requests' }).locator('dd');
  await requests.waitFor();
  await page.waitForFunction(() => {
    const dd = [...document.querySelectorAll('.stat')].find((s) => s.textContent.startsWith('Requests'))?.querySelector('dd');
    return dd && Number(dd.textContent.replace(/\D/g, '')) >= 12;
  });
  const refusals = Number((await page.locator('.stat', { hasText: 'Refusals' }).locator('dd').textContent()).replace(/\D/g, ''));
  assert.ok(refusals >= 4, `refusals ${refusals}`);
  await page.locator('.chart canvas').first().waitFor();
  assert.equal(await page.locator('.chart canvas').count() >= 2, true, 'two uPlot charts');
  await page.getByRole('table', { name: 'Findings by type' }).getByText('EMAIL_ADDRESS').waitFor();
  await page.getByRole('table', { name: 'Findings by type' }).getByText('CREDIT_CARD').waitFor();
  await page.getByRole('row').filter({ hasText: 'gpt-4o-mini' }).first().waitFor();
  await axe('overview');
  await shot('overview');
});

test('data flows: principal → category → model → zone', async () => {
  await go('Data flows', 'Data flows');
  await page.locator('svg.sankey path').first().waitFor({ state: 'attached' });
  assert.ok((await page.locator('svg.sankey path').count()) >= 4, 'Sankey bands drawn');
  const rows = page.getByRole('row').filter({ hasText: 'support-bot' });
  assert.ok((await rows.count()) >= 1, 'a flow of the support-bot principal');
  await page.getByRole('row').filter({ hasText: 'FINANCIAL' }).filter({ hasText: 'claude-test' }).first().waitFor();
  await page.getByLabel('Source', { exact: true }).selectOption('tenant');
  await page.locator('svg.sankey text', { hasText: 'acme' }).first().waitFor({ state: 'attached' });
  await axe('flows');
  await shot('flows');
});

let entryIndex;

test('audit: keyset paging goes to older entries and back', async () => {
  await go('Audit', 'Audit log');
  await page.goto(CONSOLE + '#/audit?limit=10');
  const indexes = async () => {
    await page.locator('table.entries[aria-busy="false"] tbody tr a').first().waitFor();
    return (await page.locator('table.entries tbody tr th a').allTextContents()).map((t) => Number(t.replace('#', '')));
  };
  const first = await indexes();
  assert.equal(first.length, 10);
  assert.deepEqual(first, [...first].sort((a, b) => b - a), 'newest first');
  await page.getByRole('link', { name: 'Older' }).click();
  await page.waitForURL(/before=/);
  const second = await indexes();
  assert.ok(second.length > 0 && Math.max(...second) < Math.min(...first), `older page ${second} after ${first}`);
  await page.getByRole('link', { name: 'Newer' }).click();
  await page.waitForURL((u) => !u.hash.includes('before='));
  // Back at the newest page (every console view is itself a new entry, so
  // it may have grown).
  const again = await indexes();
  assert.ok(again[0] >= first[0], 'the newest page again');
});

test('audit: search finds the entries of one principal', async () => {
  await go('Audit', 'Audit log');
  await page.getByRole('table').locator('tbody tr').first().waitFor();
  await page.getByLabel('Principal', { exact: true }).fill('support-bot');
  await page.getByLabel('Model', { exact: true }).fill('claude-test');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/principal=support-bot/);
  const rows = page.locator('table.entries tbody tr');
  await rows.first().getByRole('link').waitFor();
  const n = await rows.count();
  assert.ok(n >= 1, 'entries found');
  for (let i = 0; i < n; i++) {
    assert.match(await rows.nth(i).textContent(), /support-bot/);
    assert.match(await rows.nth(i).textContent(), /claude-test/);
  }
  await axe('audit');
  await page.getByRole('button', { name: 'Check consistency' }).click();
  const v = page.getByTestId('consistency-verdict');
  await v.waitFor();
  assert.match(await v.textContent(), /^OK/, await v.textContent());
  await shot('audit');
  const link = rows.first().getByRole('link');
  entryIndex = Number((await link.textContent()).replace('#', ''));
  await link.click();
  await page.getByRole('heading', { level: 1, name: `Audit entry #${entryIndex}` }).waitFor();
});

test('audit entry: the inclusion proof verifies in the browser', async () => {
  await page.getByRole('button', { name: 'Verify proof' }).click();
  const v = page.getByTestId('proof-verdict');
  await v.waitFor();
  assert.match(await v.textContent(), /^OK/, await v.textContent());
  const text = await page.getByLabel('Canonical entry').textContent();
  assert.match(text, /"principal": "support-bot"/);
  for (const raw of [EMAIL, CARD, AWS]) assert.ok(!text.includes(raw), 'no raw value in the entry');
  await axe('entry');
  await shot('entry');
});

test('audit entry: a tampered proof or checkpoint FAILS', async () => {
  const flip = (b64, byte) => {
    const b = Buffer.from(b64, 'base64');
    b[byte] ^= 0x01;
    return b.toString('base64');
  };
  const tamper = {
    'a proof hash': (j) => {
      assert.ok(j.proof.hashes.length > 0, 'a proof with hashes');
      j.proof.hashes[0] = flip(j.proof.hashes[0], 7);
    },
    'the entry': (j) => {
      j.entry_b64 = flip(j.entry_b64, 20);
    },
    'the checkpoint signature': (j) => {
      const lines = j.checkpoint.split('\n');
      const i = lines.findIndex((l) => l.startsWith('— '));
      const sp = lines[i].lastIndexOf(' ');
      lines[i] = lines[i].slice(0, sp + 1) + flip(lines[i].slice(sp + 1), 10);
      j.checkpoint = lines.join('\n');
    },
  };
  for (const [what, change] of Object.entries(tamper)) {
    await page.route(`**/console/api/entries/${entryIndex}`, async (route) => {
      const res = await route.fetch();
      const j = await res.json();
      change(j);
      await route.fulfill({ response: res, json: j });
    });
    await page.reload();
    await page.getByRole('button', { name: 'Verify proof' }).click();
    const v = page.getByTestId('proof-verdict');
    await v.waitFor();
    assert.match(await v.textContent(), /^FAILED/, `${what}: ${await v.textContent()}`);
    if (what === 'the checkpoint signature') await shot('entry-tampered');
    await page.unroute(`**/console/api/entries/${entryIndex}`);
  }
  await page.reload();
  await page.getByRole('button', { name: 'Verify proof' }).click();
  assert.match(await page.getByTestId('proof-verdict').textContent(), /^OK/);
});

test('keys: create a key (shown once), use it, revoke it, and /v1 refuses it', async () => {
  await go('Keys', 'Keys');
  await page.getByRole('row').filter({ hasText: 'console-admin' }).first().waitFor();
  await page.getByLabel('Name', { exact: true }).fill('e2e-temporary');
  await page.getByLabel('Tenant', { exact: true }).first().fill('acme');
  await page.getByLabel('Models (comma-separated)').fill('gpt-4o-mini');
  await page.getByLabel('Expires after').selectOption('720h');
  await page.getByRole('button', { name: 'Create key' }).click();
  const field = page.getByLabel('New API key');
  await field.waitFor();
  const key = await field.inputValue();
  assert.ok(key.length >= 20, 'a key is shown');
  const row = page.locator('tr', { hasText: 'e2e-temporary' });
  await row.waitFor();
  assert.match(await row.textContent(), /active/);
  assert.ok(!(await row.textContent()).includes(key), 'the list does not show the key');
  assert.equal(await chat(key, 'Hello from a new key.'), 200, 'the new key works on /v1');
  await axe('keys');
  await shot('keys');
  await row.getByRole('button', { name: /^Revoke key e2e-temporary/ }).click();
  await row.getByRole('button', { name: /^Confirm revoke/ }).click();
  await page.locator('tr', { hasText: 'e2e-temporary' }).filter({ hasText: 'revoked' }).waitFor();
  // Revocation is final within auth.api_keys.cache_ttl (run.sh: 1s).
  let status = 0;
  for (let i = 0; i < 40; i++) {
    status = await chat(key, 'Hello again.');
    if (status === 401) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(status, 401, 'the revoked key is refused on /v1');
  // Reloaded, the key is no longer shown anywhere.
  await page.reload();
  await page.locator('tr', { hasText: 'e2e-temporary' }).filter({ hasText: 'revoked' }).waitFor();
  assert.equal(await page.getByLabel('New API key').count(), 0);
});

test('keys: rotate the key-encryption key; shred a tenant only with its name typed again', async () => {
  const current = Number((await page.getByText('Current version:').locator('strong').textContent()).trim());
  await page.getByRole('button', { name: 'Rotate key-encryption key' }).click();
  await page.getByRole('button', { name: 'Confirm rotation' }).click();
  await page.getByText(`wrapped by version ${current + 1}`).waitFor();
  await page.getByText('Current version:').locator('strong', { hasText: String(current + 1) }).waitFor();
  const shred = page.getByRole('button', { name: 'Shred tenant' });
  await page.locator('#s-tenant').fill('globex');
  await page.locator('#s-confirm').fill('globe');
  assert.equal(await shred.isDisabled(), true, 'disabled until the name is typed again');
  await page.locator('#s-confirm').fill('globex');
  assert.equal(await shred.isDisabled(), false);
  await shred.click();
  await page.getByText('Tenant globex shredded').waitFor();
});

test('policy: rules, hash history and "try it"', async () => {
  await go('Policy', 'Policy');
  await page.getByText('Policy hash:').waitFor();
  await page.getByRole('heading', { name: 'health-stays-onprem' }).waitFor();
  await page.getByRole('button', { name: 'Test' }).click();
  const r = page.getByTestId('policy-result');
  await r.waitFor();
  assert.match(await r.textContent(), /EMAIL_ADDRESS/);
  assert.ok(!(await r.textContent()).includes('jane.roe@example.org'), 'no value in the answer');
  await axe('policy');
  await shot('policy');
});

test('models and alerts pages load', async () => {
  await go('Models', 'Models');
  await page.getByRole('heading', { name: 'Registry' }).waitFor();
  await axe('models');
  await shot('models');
  await go('Alerts', 'Alerts');
  await page.locator('main table').waitFor();
  await axe('alerts');
  await shot('alerts');
});

test('sign out ends the session', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  expectConsoleError(/401.*\/console\/api\/session/);
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  const r = await fetch(URL_ + '/console/api/overview', { headers: { Cookie: (await ctx.cookies(CONSOLE)).map((c) => `${c.name}=${c.value}`).join('; ') } });
  assert.equal(r.status, 401);
});

test('no console error, page error or CSP violation', () => {
  assert.deepEqual(problems, []);
});
