// End-to-end test of `warden serve` through the official OpenAI and
// Anthropic SDKs. run.sh starts the stand-in upstream and the gateway and
// passes everything in the environment:
//
//   WARDEN_URL      gateway base, e.g. http://127.0.0.1:PORT (no /v1)
//   WARDEN_KEY      an API key allowed ALLOWED_MODELS (comma-separated)
//   STANDIN_RECORD  file where the stand-in appends one JSON line per request
//   E2E_EMAIL, E2E_SSN, E2E_CARD, E2E_AWS_KEY  the sensitive values
//
// Run: node --test test.mjs (run.sh does it for you).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name} (run e2e/run.sh)`);
  return v;
}

const base = env('WARDEN_URL');
const key = env('WARDEN_KEY');
const record = env('STANDIN_RECORD');
const allowed = env('ALLOWED_MODELS').split(',');
const email = env('E2E_EMAIL');
const ssn = env('E2E_SSN');
const card = env('E2E_CARD');
const awsKey = env('E2E_AWS_KEY');

const prompt = `Please file this: contact ${email}, SSN ${ssn}, card ${card}. Thanks!`;
const chatModel = 'gpt-4o-mini';
const claudeModel = 'claude-test';
const embedModel = 'text-embedding-3-small';
const forbiddenModel = 'gpt-4o'; // configured upstream model the key may not use

const openai = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20_000 });
const anthropic = new Anthropic({ apiKey: key, baseURL: base, maxRetries: 0, timeout: 20_000 });

// upstreamRequests returns the requests the stand-in upstream recorded so far.
function upstreamRequests() {
  let text;
  try {
    text = readFileSync(record, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// lastUpstreamBody returns the body of the newest recorded request, and
// checks that it carries none of the raw values.
function lastUpstreamBody() {
  const reqs = upstreamRequests();
  assert.ok(reqs.length > 0, 'upstream saw no request');
  const body = reqs[reqs.length - 1].body;
  for (const v of [email, ssn, card, card.replaceAll(' ', ''), awsKey, key]) {
    assert.ok(!body.includes(v), 'upstream request body carries a raw value');
  }
  return body;
}

// assertTokenized checks the upstream saw tokens of the three types.
function assertTokenized(body) {
  for (const t of ['EMAIL_ADDRESS', 'US_SSN', 'CREDIT_CARD']) {
    assert.match(body, new RegExp(`\\[\\[${t}:[0-9A-Z]+\\]\\]`), `upstream did not see a ${t} token`);
  }
}

test('openai chat completion (JSON) restores email, SSN and card exactly', async () => {
  const r = await openai.chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: prompt }] });
  assert.equal(r.choices[0].message.content, prompt);
  assertTokenized(lastUpstreamBody());
});

test('openai chat completion (stream, 3-byte upstream writes) restores exactly', async () => {
  const stream = await openai.chat.completions.create({ model: chatModel, stream: true, messages: [{ role: 'user', content: prompt }] });
  let text = '';
  let chunks = 0;
  let finish = null;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta?.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, prompt);
  assert.equal(finish, 'stop');
  assert.ok(chunks > 3, `expected a real stream, got ${chunks} chunks`);
  assertTokenized(lastUpstreamBody());
});

test('openai responses API (JSON) restores exactly', async () => {
  const r = await openai.responses.create({ model: chatModel, input: prompt });
  assert.equal(r.output_text, prompt);
  assertTokenized(lastUpstreamBody());
});

test('openai responses API (stream) restores exactly', async () => {
  const stream = await openai.responses.create({ model: chatModel, input: prompt, stream: true });
  let deltas = '';
  let done = null;
  let completed = null;
  for await (const ev of stream) {
    if (ev.type === 'response.output_text.delta') deltas += ev.delta;
    if (ev.type === 'response.output_text.done') done = ev.text;
    if (ev.type === 'response.completed') completed = ev.response;
  }
  assert.equal(deltas, prompt);
  assert.equal(done, prompt);
  assert.ok(completed, 'no response.completed event');
  assert.equal(completed.output[0].content[0].text, prompt);
  assertTokenized(lastUpstreamBody());
});

test('openai embeddings: upstream embeds tokens, same input gives same vector', async () => {
  const a = await openai.embeddings.create({ model: embedModel, input: [prompt, 'plain text'], encoding_format: 'float' });
  assert.equal(a.data.length, 2);
  assert.equal(a.data[0].embedding.length, 8);
  assertTokenized(lastUpstreamBody());
  const b = await openai.embeddings.create({ model: embedModel, input: [prompt], encoding_format: 'float' });
  assert.deepEqual(b.data[0].embedding, a.data[0].embedding, 'tokenization is not deterministic');
});

test('anthropic messages (JSON) restores exactly', async () => {
  const r = await anthropic.messages.create({ model: claudeModel, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[0].text, prompt);
  assert.equal(r.stop_reason, 'end_turn');
  const up = upstreamRequests().at(-1);
  assert.equal(up.path, '/v1/messages');
  assertTokenized(lastUpstreamBody());
});

test('anthropic messages (stream) restores exactly', async () => {
  const stream = anthropic.messages.stream({ model: claudeModel, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
  let deltas = '';
  stream.on('text', (t) => { deltas += t; });
  const final = await stream.finalMessage();
  assert.equal(deltas, prompt);
  assert.equal(final.content[0].text, prompt);
  assertTokenized(lastUpstreamBody());
});

test('a model the key may not use: 403 from both SDKs, upstream not called', async () => {
  const before = upstreamRequests().length;
  await assert.rejects(
    openai.chat.completions.create({ model: forbiddenModel, messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.PermissionDeniedError && e.status === 403,
  );
  await assert.rejects(
    anthropic.messages.create({ model: 'claude-forbidden', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof Anthropic.PermissionDeniedError && e.status === 403,
  );
  assert.equal(upstreamRequests().length, before);
});

test('a bad key: 401 from both SDKs', async () => {
  const badKey = 'wdn_' + 'x'.repeat(40);
  const o = new OpenAI({ apiKey: badKey, baseURL: `${base}/v1`, maxRetries: 0 });
  const a = new Anthropic({ apiKey: badKey, baseURL: base, maxRetries: 0 });
  const before = upstreamRequests().length;
  await assert.rejects(
    o.chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
  );
  await assert.rejects(
    a.messages.create({ model: claudeModel, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof Anthropic.AuthenticationError && e.status === 401,
  );
  await assert.rejects(o.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
  assert.equal(upstreamRequests().length, before);
});

test('a prompt with an AWS access key: 400 from both SDKs, nothing reaches the upstream', async () => {
  const before = upstreamRequests().length;
  const secret = `deploy with ${awsKey} please, and mail ${email}`;
  await assert.rejects(
    openai.chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: secret }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && !e.message.includes(awsKey),
  );
  await assert.rejects(
    openai.chat.completions.create({ model: chatModel, stream: true, messages: [{ role: 'user', content: secret }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400,
  );
  await assert.rejects(
    anthropic.messages.create({ model: claudeModel, max_tokens: 64, messages: [{ role: 'user', content: secret }] }),
    (e) => e instanceof Anthropic.BadRequestError && e.status === 400 && !e.message.includes(awsKey),
  );
  assert.equal(upstreamRequests().length, before, 'the upstream was called');
});

test('/v1/models lists exactly the allowed models', async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), [...allowed].sort());
});
