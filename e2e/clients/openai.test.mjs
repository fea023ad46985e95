// Client matrix: the official `openai` npm SDK (Chat Completions and
// Responses) through warden serve.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import * as e2e from '../lib.mjs';

const client = (opts = {}) => new OpenAI({ apiKey: e2e.key, baseURL: `${e2e.base}/v1`, maxRetries: 0, timeout: 20_000, ...opts });

const chatTools = Object.entries(e2e.toolSchemas).map(([name, t]) => ({
  type: 'function',
  function: { name, description: t.description, parameters: t.parameters },
}));
const responsesTools = Object.entries(e2e.toolSchemas).map(([name, t]) => ({
  type: 'function',
  name,
  description: t.description,
  parameters: t.parameters,
  strict: true,
}));

describe(`openai ${e2e.version('openai')}`, () => {
  test('chat completion: PII round trip', async () => {
    const tag = 'openai-chat-pii';
    const r = await client().chat.completions.create({ model: e2e.chatModel, messages: [{ role: 'user', content: e2e.pii(tag) }] });
    assert.equal(r.choices[0].message.content, e2e.pii(tag));
    e2e.assertUpstream(tag, { path: '/v1/chat/completions' });
  });

  test('responses: PII round trip', async () => {
    const tag = 'openai-responses-pii';
    const r = await client().responses.create({ model: e2e.chatModel, input: e2e.pii(tag) });
    assert.equal(r.output_text, e2e.pii(tag));
    e2e.assertUpstream(tag, { path: '/v1/responses' });
  });

  test('chat completion stream: text restored across deltas', async () => {
    const tag = 'openai-chat-stream';
    const stream = client().chat.completions.stream({ model: e2e.chatModel, messages: [{ role: 'user', content: e2e.pii(tag) }] });
    let text = '';
    stream.on('content', (d) => { text += d; });
    const final = await stream.finalChatCompletion();
    assert.equal(text, e2e.pii(tag));
    assert.equal(final.choices[0].message.content, e2e.pii(tag));
    assert.equal(final.choices[0].finish_reason, 'stop');
    e2e.assertUpstream(tag);
  });

  // The SDK accumulates interleaved argument deltas per index; its
  // arguments.done event assumes the API's order (one call after another)
  // and fires at every switch of index, so the events are checked on a
  // sequential stream only.
  for (const interleave of [1, 0]) {
    test(`chat completion stream: two parallel tool calls, interleave=${interleave}`, async () => {
      const tag = `openai-chat-tools-${interleave ? 'interleaved' : 'sequential'}`;
      const stream = client().chat.completions.stream({
        model: e2e.chatModel,
        messages: [{ role: 'user', content: e2e.pii(tag) + e2e.directive({ tools: 2, interleave }) }],
        tools: chatTools,
        parallel_tool_calls: true,
      });
      const done = [];
      stream.on('tool_calls.function.arguments.done', (ev) => done.push({ name: ev.name, args: ev.arguments }));
      const final = await stream.finalChatCompletion();
      const msg = final.choices[0].message;
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(msg.tool_calls.map((c) => c.id), ['call_standin_0', 'call_standin_1']);
      e2e.assertToolCalls(msg.tool_calls.map((c) => ({ name: c.function.name, args: c.function.arguments })), 'accumulated');
      if (!interleave) e2e.assertToolCalls(done, 'arguments.done events');
      e2e.assertUpstream(tag);
    });
  }

  test('responses stream: text restored across deltas', async () => {
    const tag = 'openai-responses-stream';
    const stream = client().responses.stream({ model: e2e.chatModel, input: e2e.pii(tag) });
    let deltas = '';
    let done = null;
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
      if (ev.type === 'response.output_text.done') done = ev.text;
    }
    const final = await stream.finalResponse();
    assert.equal(deltas, e2e.pii(tag));
    assert.equal(done, e2e.pii(tag));
    assert.equal(final.output_text, e2e.pii(tag));
    e2e.assertUpstream(tag);
  });

  test('responses stream: two function calls, interleaved', async () => {
    const tag = 'openai-responses-tools';
    const stream = client().responses.stream({ model: e2e.chatModel, input: e2e.toolsPrompt(tag), tools: responsesTools });
    const deltas = new Map();
    const done = new Map();
    for await (const ev of stream) {
      if (ev.type === 'response.function_call_arguments.delta') deltas.set(ev.item_id, (deltas.get(ev.item_id) ?? '') + ev.delta);
      if (ev.type === 'response.function_call_arguments.done') done.set(ev.item_id, ev.arguments);
    }
    const final = await stream.finalResponse();
    const calls = final.output.filter((o) => o.type === 'function_call');
    e2e.assertToolCalls(calls.map((c) => ({ name: c.name, args: c.arguments })), 'response.completed');
    e2e.assertToolCalls(calls.map((c) => ({ name: c.name, args: deltas.get(c.id) })), 'argument deltas');
    e2e.assertToolCalls(calls.map((c) => ({ name: c.name, args: done.get(c.id) })), 'arguments.done events');
    e2e.assertUpstream(tag, { path: '/v1/responses' });
  });

  test('upstream 429: the relayed error carries the retry and rate-limit headers', async () => {
    const tag = 'openai-429-headers';
    await assert.rejects(
      client().chat.completions.create({ model: e2e.chatModel, messages: [{ role: 'user', content: e2e.pii(tag) + e2e.failOnce(25) }] }),
      (e) => {
        assert.ok(e instanceof OpenAI.RateLimitError, `want RateLimitError, got ${e?.constructor?.name}`);
        assert.equal(e.headers.get('retry-after-ms'), '25');
        assert.equal(e.headers.get('retry-after'), '1');
        assert.equal(e.headers.get('x-ratelimit-remaining-requests'), '0');
        assert.match(e.headers.get('x-request-id') ?? '', /^req_standin_/);
        assert.equal(e.code, 'rate_limit_exceeded');
        return true;
      },
    );
    e2e.assertUpstream(tag);
  });

  test('upstream 429 with retry-after: the SDK retry succeeds', async () => {
    const tag = 'openai-429-retry';
    const { data, response } = await client({ maxRetries: 2 })
      .chat.completions.create({ model: e2e.chatModel, messages: [{ role: 'user', content: e2e.pii(tag) + e2e.failOnce(20) }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, e2e.pii(tag));
    assert.match(response.headers.get('x-request-id') ?? '', /^req_standin_/);
    e2e.assertUpstream(tag, { want: 2 });
  });
});
