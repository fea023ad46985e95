// End-to-end checks of what `warden serve` itself answers, through the
// official OpenAI and Anthropic SDKs: embeddings, a model the key may not
// use, a bad key, a prompt with a secret that is refused outright, and
// /v1/models. The client matrix (clients/*.test.mjs) checks each SDK's
// round trip, streams, tools and retries. run.sh passes the environment
// (see lib.mjs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import * as e2e from './lib.mjs';

const allowed = process.env.ALLOWED_MODELS.split(',');
const awsKey = process.env.E2E_AWS_KEY;
const embedModel = 'text-embedding-3-small';
const forbiddenModel = 'gpt-4o'; // configured upstream model the key may not use

const openai = new OpenAI({ apiKey: e2e.key, baseURL: `${e2e.base}/v1`, maxRetries: 0, timeout: 20_000 });
const anthropic = new Anthropic({ apiKey: e2e.key, baseURL: e2e.base, maxRetries: 0, timeout: 20_000 });

describe(`gateway behaviours (openai ${e2e.version('openai')}, @anthropic-ai/sdk ${e2e.version('@anthropic-ai/sdk')})`, () => {
  test('openai embeddings: upstream embeds tokens, same input gives same vector', async () => {
    const tag = 'gateway-embeddings';
    const a = await openai.embeddings.create({ model: embedModel, input: [e2e.pii(tag), 'plain text'], encoding_format: 'float' });
    assert.equal(a.data.length, 2);
    assert.equal(a.data[0].embedding.length, 8);
    e2e.assertUpstream(tag, { path: '/v1/embeddings' });
    const b = await openai.embeddings.create({ model: embedModel, input: [e2e.pii(tag)], encoding_format: 'float' });
    assert.deepEqual(b.data[0].embedding, a.data[0].embedding, 'tokenization is not deterministic');
  });

  test('a model the key may not use: 403 from both SDKs, upstream not called', async () => {
    const tag = 'gateway-forbidden-model';
    await assert.rejects(
      openai.chat.completions.create({ model: forbiddenModel, messages: [{ role: 'user', content: e2e.pii(tag) }] }),
      (e) => e instanceof OpenAI.PermissionDeniedError && e.status === 403,
    );
    await assert.rejects(
      anthropic.messages.create({ model: 'claude-forbidden', max_tokens: 16, messages: [{ role: 'user', content: e2e.pii(tag) }] }),
      (e) => e instanceof Anthropic.PermissionDeniedError && e.status === 403,
    );
    assert.equal(e2e.upstreamRequests(tag).length, 0, 'the upstream was called');
  });

  test('a bad key: 401 from both SDKs', async () => {
    const tag = 'gateway-bad-key';
    const badKey = 'wdn_' + 'x'.repeat(40);
    const o = new OpenAI({ apiKey: badKey, baseURL: `${e2e.base}/v1`, maxRetries: 0 });
    const a = new Anthropic({ apiKey: badKey, baseURL: e2e.base, maxRetries: 0 });
    await assert.rejects(
      o.chat.completions.create({ model: e2e.chatModel, messages: [{ role: 'user', content: e2e.pii(tag) }] }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
    );
    await assert.rejects(
      a.messages.create({ model: e2e.claudeModel, max_tokens: 16, messages: [{ role: 'user', content: e2e.pii(tag) }] }),
      (e) => e instanceof Anthropic.AuthenticationError && e.status === 401,
    );
    await assert.rejects(o.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
    assert.equal(e2e.upstreamRequests(tag).length, 0, 'the upstream was called');
  });

  test('a prompt with an AWS access key: 400 from both SDKs, nothing reaches the upstream', async () => {
    const tag = 'gateway-secret';
    const secret = `case ${tag}: deploy with ${awsKey} please, and mail ${e2e.email}`;
    await assert.rejects(
      openai.chat.completions.create({ model: e2e.chatModel, messages: [{ role: 'user', content: secret }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && !e.message.includes(awsKey),
    );
    await assert.rejects(
      openai.chat.completions.create({ model: e2e.chatModel, stream: true, messages: [{ role: 'user', content: secret }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400,
    );
    await assert.rejects(
      anthropic.messages.create({ model: e2e.claudeModel, max_tokens: 64, messages: [{ role: 'user', content: secret }] }),
      (e) => e instanceof Anthropic.BadRequestError && e.status === 400 && !e.message.includes(awsKey),
    );
    assert.equal(e2e.upstreamRequests(tag).length, 0, 'the upstream was called');
  });

  test('/v1/models lists exactly the allowed models', async () => {
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), [...allowed].sort());
  });
});
