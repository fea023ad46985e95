// Client matrix: the official `@anthropic-ai/sdk` npm SDK (Messages)
// through warden serve.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import * as e2e from '../lib.mjs';

const client = (opts = {}) => new Anthropic({ apiKey: e2e.key, baseURL: e2e.base, maxRetries: 0, timeout: 20_000, ...opts });

const tools = Object.entries(e2e.toolSchemas).map(([name, t]) => ({ name, description: t.description, input_schema: t.parameters }));

describe(`@anthropic-ai/sdk ${e2e.version('@anthropic-ai/sdk')}`, () => {
  test('messages: PII round trip', async () => {
    const tag = 'anthropic-pii';
    const r = await client().messages.create({ model: e2e.claudeModel, max_tokens: 256, messages: [{ role: 'user', content: e2e.pii(tag) }] });
    assert.equal(r.content[0].type, 'text');
    assert.equal(r.content[0].text, e2e.pii(tag));
    assert.equal(r.stop_reason, 'end_turn');
    e2e.assertUpstream(tag, { path: '/v1/messages' });
  });

  test('messages stream: text restored across deltas, thinking signature intact', async () => {
    const tag = 'anthropic-stream';
    const stream = client().messages.stream({
      model: e2e.claudeModel,
      max_tokens: 256,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: e2e.pii(tag) + e2e.directive({ thinking: 1, ping: 'every' }) }],
    });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(text, e2e.pii(tag));
    assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
    assert.match(final.content[0].signature, /^[A-Za-z0-9+/]+=*$/, 'thinking signature');
    assert.equal(final.content[1].text, e2e.pii(tag));
    e2e.assertUpstream(tag);
  });

  for (const interleave of [1, 0]) {
    test(`messages stream: two tool_use blocks, interleave=${interleave}`, async () => {
      const tag = `anthropic-tools-${interleave ? 'interleaved' : 'sequential'}`;
      const stream = client().messages.stream({
        model: e2e.claudeModel,
        max_tokens: 256,
        tools,
        messages: [{ role: 'user', content: e2e.pii(tag) + e2e.directive({ tools: 2, interleave }) }],
      });
      const json = new Map();
      stream.on('streamEvent', (ev) => {
        if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') {
          json.set(ev.index, (json.get(ev.index) ?? '') + ev.delta.partial_json);
        }
      });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      const uses = final.content.filter((b) => b.type === 'tool_use');
      assert.deepEqual(uses.map((b) => b.id), ['toolu_standin_0', 'toolu_standin_1']);
      e2e.assertToolCalls(uses.map((b) => ({ name: b.name, args: b.input })), 'finalMessage');
      e2e.assertToolCalls([...json.entries()].sort(([a], [b]) => a - b).map(([i, args]) => ({ name: final.content[i].name, args })), 'input_json deltas');
      e2e.assertUpstream(tag);
    });
  }

  // With extended thinking and tools, the API requires the thinking block
  // back unchanged on the next turn: its signature covers the text the
  // model wrote, which for the upstream is the tokenized text.
  test('thinking and tool use over two turns: the upstream gets its own thinking back', async () => {
    const tag = 'anthropic-thinking-turns';
    const thinking = { type: 'enabled', budget_tokens: 1024 };
    const messages = [{ role: 'user', content: e2e.pii(tag) + e2e.directive({ thinking: 1, tools: 1 }) }];
    const first = await client().messages.stream({ model: e2e.claudeModel, max_tokens: 512, thinking, tools, messages }).finalMessage();
    assert.deepEqual(first.content.map((b) => b.type), ['thinking', 'tool_use']);
    assert.equal(first.content[0].thinking, e2e.pii(tag), 'thinking restored for the caller');
    const use = first.content[1];
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: `found: ${use.input.query}` }] });
    const second = await client().messages.create({ model: e2e.claudeModel, max_tokens: 512, thinking, tools, messages });
    e2e.assertRestored(second.content.at(-1).text, 'answer to the tool result');

    const [up1, up2] = e2e.assertUpstream(tag, { want: 2 }).map((r) => JSON.parse(r.body));
    const sentUp = up1.messages[0].content.split('\nstandin:')[0]; // what the stand-in thought: the tokenized prompt
    const back = up2.messages[1].content[0];
    assert.equal(back.type, 'thinking');
    assert.equal(back.thinking, sentUp, 'the thinking text went back to the upstream changed');
    assert.equal(back.signature, first.content[0].signature, 'the signature went back changed');
  });

  test('upstream 429: the relayed error carries the retry and rate-limit headers', async () => {
    const tag = 'anthropic-429-headers';
    await assert.rejects(
      client().messages.create({ model: e2e.claudeModel, max_tokens: 64, messages: [{ role: 'user', content: e2e.pii(tag) + e2e.failOnce(25) }] }),
      (e) => {
        assert.ok(e instanceof Anthropic.RateLimitError, `want RateLimitError, got ${e?.constructor?.name}`);
        assert.equal(e.headers.get('retry-after'), '1');
        assert.equal(e.headers.get('anthropic-ratelimit-requests-remaining'), '0');
        assert.match(e.headers.get('request-id') ?? '', /^req_standin_/);
        assert.equal(e.error?.error?.type, 'rate_limit_error');
        return true;
      },
    );
    e2e.assertUpstream(tag);
  });

  test('upstream 429 with retry-after: the SDK retry succeeds', async () => {
    const tag = 'anthropic-429-retry';
    const { data, response } = await client({ maxRetries: 2 })
      .messages.create({ model: e2e.claudeModel, max_tokens: 256, messages: [{ role: 'user', content: e2e.pii(tag) + e2e.failOnce(20) }] })
      .withResponse();
    assert.equal(data.content[0].text, e2e.pii(tag));
    assert.match(response.headers.get('request-id') ?? '', /^req_standin_/);
    e2e.assertUpstream(tag, { want: 2 });
  });
});
