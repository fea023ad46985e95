// Shared helpers of the client matrix (clients/*.test.mjs). run.sh starts
// the stand-in upstream and `warden serve` and passes everything in the
// environment:
//
//   WARDEN_URL      gateway base, e.g. http://127.0.0.1:PORT (no /v1)
//   WARDEN_KEY      an API key allowed ALLOWED_MODELS (comma-separated)
//   STANDIN_RECORD  file where the stand-in appends one JSON line per request
//   E2E_EMAIL, E2E_SSN, E2E_CARD, E2E_AWS_KEY  the sensitive values
//
// The test files run in parallel against one gateway and one stand-in, so
// every test names its prompt with a case tag (letters and dashes only, so
// no detector takes it for a value) and finds its own upstream requests by
// that tag, never by position in the record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name} (run e2e/run.sh)`);
  return v;
}

export const base = env('WARDEN_URL');
export const key = env('WARDEN_KEY');
export const email = env('E2E_EMAIL');
export const ssn = env('E2E_SSN');
export const card = env('E2E_CARD');
const record = env('STANDIN_RECORD');
const awsKey = env('E2E_AWS_KEY');

export const chatModel = 'gpt-4o-mini';
export const claudeModel = 'claude-test';

/** The raw values that must never reach the upstream. */
export const raw = [email, ssn, card, card.replaceAll(' ', ''), awsKey];

/** pii returns a prompt holding the email, SSN and card, tagged tag. */
export function pii(tag) {
  return `case ${tag}: please file this: contact ${email}, SSN ${ssn}, card ${card}. Thanks!`;
}

/**
 * assertRestored checks text holds the original email, SSN and card and no
 * token. The stand-in echoes the prompt, and fills a tool's string
 * arguments with the echo, so each of those holds all three.
 */
export function assertRestored(text, what) {
  assert.equal(typeof text, 'string', `${what}: not a string`);
  for (const [name, v] of [['email', email], ['SSN', ssn], ['card', card]]) {
    assert.ok(text.includes(v), `${what}: the ${name} was not restored`);
  }
  assert.doesNotMatch(text, /\[\[[A-Z_]+:[0-9A-Z]+\]\]/, `${what}: a token reached the caller`);
}

/**
 * directive returns the stand-in directive line that goes on the last
 * line of the last user message (the echo leaves it out).
 */
export function directive(opts) {
  return '\nstandin: ' + Object.entries(opts).map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * failOnce returns a directive that makes the stand-in answer the first
 * request carrying it with 429 and retry-after, then normally. The
 * stand-in counts failures per directive line and path, so each test
 * passes its own ms (retry_ms, 5-60 keeps SDK waits short).
 */
export function failOnce(ms) {
  return directive({ status: 429, fail: 1, retry_ms: ms });
}

/** upstreamRequests returns the stand-in's recorded requests whose body holds tag. */
export function upstreamRequests(tag) {
  let text;
  try {
    text = readFileSync(record, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.body.includes(`case ${tag}:`));
}

/**
 * assertUpstream checks the upstream saw want requests for tag, each with
 * tokens of the three types, none of the raw values and never the
 * caller's key; it returns them.
 */
export function assertUpstream(tag, { want = 1, path } = {}) {
  const reqs = upstreamRequests(tag);
  assert.equal(reqs.length, want, `upstream requests for case ${tag}`);
  for (const r of reqs) {
    if (path) assert.equal(r.path, path, `case ${tag}: upstream path`);
    const all = r.body + JSON.stringify(r.header);
    for (const v of [...raw, key]) {
      assert.ok(!all.includes(v), `case ${tag}: the upstream request carries a raw value or the caller's key`);
    }
    for (const t of ['EMAIL_ADDRESS', 'US_SSN', 'CREDIT_CARD']) {
      assert.match(r.body, new RegExp(`\\[\\[${t}:[0-9A-Z]+\\]\\]`), `case ${tag}: upstream did not see a ${t} token`);
    }
  }
  return reqs;
}

/**
 * assertToolCalls checks a client's accumulated tool calls: the two tools
 * by name in order, each with arguments that parse as JSON objects whose
 * string fields hold the restored prompt.
 */
export function assertToolCalls(calls, what) {
  assert.deepEqual(calls.map((c) => c.name), ['lookup_customer', 'file_ticket'], `${what}: tool names`);
  for (const c of calls) {
    const args = typeof c.args === 'string' ? JSON.parse(c.args) : c.args;
    assert.equal(typeof args, 'object', `${what}: ${c.name} arguments are not an object`);
    if (c.name === 'lookup_customer') {
      assertRestored(args.query, `${what}: lookup_customer.query`);
    } else {
      assertRestored(args.note, `${what}: file_ticket.note`);
      assert.equal(args.priority, 1, `${what}: file_ticket.priority`);
    }
  }
}

/** toolSchemas are the two tools every client offers, as JSON Schema. */
export const toolSchemas = {
  lookup_customer: {
    description: 'Look a customer up',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
  },
  file_ticket: {
    description: 'File a support ticket',
    parameters: {
      type: 'object',
      properties: { note: { type: 'string' }, priority: { type: 'integer' } },
      required: ['note', 'priority'],
      additionalProperties: false,
    },
  },
};

/** toolsPrompt asks the stand-in for two parallel calls, interleaved in a stream. */
export function toolsPrompt(tag) {
  return pii(tag) + directive({ tools: 2, interleave: 1 });
}

/**
 * version returns the installed version of an npm package (dir is its
 * folder under e2e/node_modules), for the client's name in the summary.
 */
export function version(dir) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${dir}/package.json`, import.meta.url), 'utf8')).version;
}
