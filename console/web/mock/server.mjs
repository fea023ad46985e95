// A stand-in for the console API, for working on the front end without a
// gateway: `npm run build && npm run mock`, then open
// http://127.0.0.1:8790/console/ (any API key signs in; "bad" is refused).
// It serves ../dist with the gateway's security headers and answers the
// endpoints of docs/CONSOLE.md from fixtures. Audit entries and proofs are
// the known-answer vectors (test/testdata/vectors.json), so "Verify proof"
// and the consistency check pass. The end-to-end test
// (e2e/console/run.sh) runs against a real `warden serve`, not this.
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const dist = normalize(join(here, '../../dist'));
const V = JSON.parse(readFileSync(join(here, '../test/testdata/vectors.json'), 'utf8'));
const port = Number(process.env.PORT || 8790);
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const now = Math.floor(Date.now() / 1000);
const hour = 3600;
const cats = ['CONTACT', 'FINANCIAL', 'GOVERNMENT_ID'];
const series = Array.from({ length: 24 }, (_, i) => {
  const r = 20 + Math.round(15 * Math.sin(i / 3)) + i;
  return { t: now - (24 - i) * hour, requests: r, refusals: i % 5, findings: Math.round(r * 0.6), leaks: i === 17 ? 1 : 0, restores: Math.round(r * 0.3), categories: { CONTACT: Math.round(r * 0.4), FINANCIAL: i % 3 } };
});
const sum = (k) => series.reduce((n, p) => n + p[k], 0);
// The size-70 tree of the vectors: entries are its records.
const full = V.inclusion.filter((v) => v.tree_size === 70);
const entries = full.map((v) => {
  const e = JSON.parse(Buffer.from(v.entry_b64, 'base64').toString());
  return { index: v.index, kind: e.kind, time: e.time, principal: e.principal, tenant: e.tenant, model: 'gpt-4o-mini', upstream: 'echo', zone: 'eu', endpoint: 'chat', decision: 'deidentify', status: 200, error: '', findings: { EMAIL_ADDRESS: 1 }, restored: 1, leaks: 0, request_id: e.request_id };
});
const keys = [
  { id: 'k_admin', name: 'console-admin', tenant: 'acme', models: [], roles: ['admin'], state: 'active', created_at: '2026-01-01T00:00:00Z', expires_at: null },
  { id: 'k_app', name: 'support-bot', tenant: 'acme', models: ['gpt-4o-mini'], roles: [], state: 'active', created_at: '2026-01-02T00:00:00Z', expires_at: '2026-06-01T00:00:00Z' },
];

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function body(req) {
  let s = '';
  for await (const c of req) s += c;
  return s ? JSON.parse(s) : {};
}

function apiRoute(req, res, path, q) {
  const signed = /warden_console=mock/.test(req.headers.cookie || '');
  if (req.method !== 'GET' && req.headers['x-warden-console'] !== '1') return json(res, 403, { error: { code: 'csrf', message: 'missing X-Warden-Console header' } });
  if (path === 'session') {
    if (req.method === 'POST') {
      return body(req).then((b) => {
        if (!b.api_key || b.api_key === 'bad') return json(res, 401, { error: { code: 'unauthorized', message: 'invalid API key' } });
        res.setHeader('Set-Cookie', 'warden_console=mock; Path=/console; HttpOnly; SameSite=Strict');
        json(res, 200, { principal: 'console-admin', tenant: 'acme', roles: ['admin'] });
      });
    }
    if (req.method === 'DELETE') {
      res.setHeader('Set-Cookie', 'warden_console=; Path=/console; Max-Age=0');
      return json(res, 200, {});
    }
    return signed ? json(res, 200, { principal: 'console-admin', tenant: 'acme', roles: ['admin'] }) : json(res, 401, { error: { code: 'unauthorized', message: 'not signed in' } });
  }
  if (!signed) return json(res, 401, { error: { code: 'unauthorized', message: 'not signed in' } });
  const m = /^entries\/(\d+)$/.exec(path);
  if (m) {
    const v = full.find((x) => x.index === Number(m[1]));
    if (!v) return json(res, 404, { error: { code: 'not_found', message: 'no such entry' } });
    return json(res, 200, { entry: JSON.parse(Buffer.from(v.entry_b64, 'base64').toString()), entry_b64: v.entry_b64, proof: { index: v.index, tree_size: v.tree_size, hashes: v.hashes }, checkpoint: v.checkpoint, verifier_key: V.verifier_key });
  }
  switch (path) {
    case 'overview':
      return json(res, 200, {
        window: { since: q.get('since'), until: q.get('until'), step: q.get('step') },
        totals: { requests: sum('requests'), refusals: sum('refusals'), findings: sum('findings'), leaks: sum('leaks'), restores: sum('restores') },
        series,
        refusals_by_reason: { secret_detected: 31, model_not_allowed: 12, rate_limited: 4 },
        findings_by_type: { EMAIL_ADDRESS: 310, CREDIT_CARD: 96, US_SSN: 41, PHONE_NUMBER: 77 },
        findings_by_category: { CONTACT: 387, FINANCIAL: 96, GOVERNMENT_ID: 41 },
        by_model: [
          { model: 'gpt-4o-mini', zone: 'eu', requests: 612, findings: 401 },
          { model: 'claude-test', zone: 'us', requests: 120, findings: 123 },
        ],
        log: { size: 70, checkpoint_size: 70 },
      });
    case 'flows':
      return json(res, 200, {
        links: [
          { tenant: 'acme', principal: 'support-bot', category: 'CONTACT', model: 'gpt-4o-mini', zone: 'eu', count: 300 },
          { tenant: 'acme', principal: 'support-bot', category: 'FINANCIAL', model: 'gpt-4o-mini', zone: 'eu', count: 80 },
          { tenant: 'acme', principal: 'billing', category: 'FINANCIAL', model: 'claude-test', zone: 'us', count: 16 },
          { tenant: 'globex', principal: 'hr-agent', category: 'GOVERNMENT_ID', model: 'claude-test', zone: 'us', count: 41 },
          { tenant: 'globex', principal: 'hr-agent', category: '', model: 'gpt-4o-mini', zone: 'eu', count: 120 },
          { tenant: 'acme', principal: 'billing', category: 'CONTACT', model: 'claude-test', zone: 'us', count: 87 },
        ],
      });
    case 'entries': {
      const before = q.get('before') ? Number(q.get('before')) : Infinity;
      const limit = Number(q.get('limit') || 50);
      const list = entries.filter((e) => e.index < before && (!q.get('principal') || e.principal === q.get('principal'))).sort((a, b) => b.index - a.index);
      const page = list.slice(0, limit);
      return json(res, 200, { entries: page, next: list.length > limit ? page.at(-1).index : null });
    }
    case 'checkpoints':
      return json(res, 200, { checkpoints: [{ size: 70, time: '2026-01-01T01:00:00Z' }, { size: 33, time: '2026-01-01T00:30:00Z' }] });
    case 'consistency': {
      const c = V.consistency.find((x) => x.from === Number(q.get('from') || 33) && x.to === Number(q.get('to') || 70)) || V.consistency.at(-1);
      return json(res, 200, { from: { size: c.from, checkpoint: c.from_checkpoint }, to: { size: c.to, checkpoint: c.to_checkpoint }, hashes: c.hashes, verifier_key: V.verifier_key });
    }
    case 'keys':
      if (req.method === 'POST') {
        return body(req).then((b) => {
          const id = 'k_' + Math.random().toString(36).slice(2, 8);
          keys.push({ id, name: b.name, tenant: b.tenant, models: b.models, roles: b.roles, state: 'active', created_at: new Date().toISOString(), expires_at: null });
          json(res, 200, { id, key: 'wk_mock_' + id });
        });
      }
      return json(res, 200, { api_keys: keys, kek: { current: 2, versions: [{ version: 1, created_at: '2025-06-01T00:00:00Z', state: 'retired' }, { version: 2, created_at: '2026-01-01T00:00:00Z', state: 'current' }] } });
    case 'kek/rotate':
      return json(res, 200, { current: 3 });
    case 'policy':
      return json(res, 200, { hash: 'sha256:8f1d4c', rules: [{ name: 'health-stays-onprem', when: 'has_category("HEALTH")', zones: ['onprem'] }], history: [{ hash: 'sha256:8f1d4c', time: '2026-01-01T00:00:00Z', index: 0 }] });
    case 'policy/test':
      return json(res, 200, { decision: 'deidentify', reasons: [], rules: ['default'], findings: { EMAIL_ADDRESS: 1, CREDIT_CARD: 1 } });
    case 'models':
      return json(res, 200, { models: [{ name: 'llama-3-8b', digest: 'sha256:1a2b3c', scanned: true, signed: true, approved: true, approved_by: 'alice', at: '2026-01-01T00:00:00Z' }], mcp_pins: [{ server: 'crm', tool: 'lookup_customer', hash: 'sha256:77aa', state: 'approved', approved_by: 'alice', at: '2026-01-01T00:00:00Z' }] });
    case 'alerts':
      return json(res, 200, { alerts: [{ id: 'a1', time: new Date().toISOString(), kind: 'rate_drift', severity: 'warning', subject: { principal: 'support-bot', model: 'gpt-4o-mini', type: 'EMAIL_ADDRESS' }, message: 'EMAIL_ADDRESS rate 3.1x its baseline', value: 0.62, baseline: 0.2 }] });
  }
  const k = /^keys\/([^/]+)\/revoke$/.exec(path);
  if (k) {
    const key = keys.find((x) => x.id === k[1]);
    if (key) key.state = 'revoked';
    return json(res, 200, { id: k[1], state: 'revoked' });
  }
  const t = /^tenants\/([^/]+)\/shred$/.exec(path);
  if (t) return body(req).then((b) => (b.confirm === decodeURIComponent(t[1]) ? json(res, 200, { tenant: b.confirm, shredded: true }) : json(res, 400, { error: { code: 'confirm', message: 'confirmation does not match' } })));
  return json(res, 404, { error: { code: 'not_found', message: 'no such endpoint' } });
}

createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (u.pathname.startsWith('/console/api/')) return apiRoute(req, res, u.pathname.slice('/console/api/'.length), u.searchParams);
  if (u.pathname === '/console') {
    res.writeHead(301, { Location: '/console/' });
    return res.end();
  }
  if (!u.pathname.startsWith('/console/')) {
    res.writeHead(404);
    return res.end();
  }
  let file = normalize(join(dist, u.pathname.slice('/console/'.length) || 'index.html'));
  if (!file.startsWith(dist) || !existsSync(file)) file = join(dist, 'index.html');
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
  res.end(readFileSync(file));
}).listen(port, '127.0.0.1', () => console.log(`mock console API on http://127.0.0.1:${port}/console/`));
