// Client matrix: LangChain JS (`@langchain/openai` ChatOpenAI over Chat
// Completions and Responses, `@langchain/anthropic` ChatAnthropic)
// through warden serve: invoke, stream, bound tools streamed and merged
// chunk by chunk, and LangChain's own retry of a 429.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import * as e2e from '../lib.mjs';

const models = [
  {
    name: 'ChatOpenAI',
    make: (o) => new ChatOpenAI({ model: e2e.chatModel, apiKey: e2e.key, configuration: { baseURL: `${e2e.base}/v1` }, timeout: 20_000, ...o }),
    path: '/v1/chat/completions',
  },
  {
    name: 'ChatOpenAI (responses)',
    make: (o) => new ChatOpenAI({ model: e2e.chatModel, apiKey: e2e.key, configuration: { baseURL: `${e2e.base}/v1` }, useResponsesApi: true, timeout: 20_000, ...o }),
    path: '/v1/responses',
  },
  {
    name: 'ChatAnthropic',
    make: (o) => new ChatAnthropic({ model: e2e.claudeModel, apiKey: e2e.key, anthropicApiUrl: e2e.base, maxTokens: 512, ...o }),
    path: '/v1/messages',
  },
];

const tools = [
  tool(async ({ query }) => query, {
    name: 'lookup_customer',
    description: e2e.toolSchemas.lookup_customer.description,
    schema: z.object({ query: z.string() }),
  }),
  tool(async ({ note }) => note, {
    name: 'file_ticket',
    description: e2e.toolSchemas.file_ticket.description,
    schema: z.object({ note: z.string(), priority: z.number().int() }),
  }),
];

// slug makes a model's name a case tag (letters and dashes).
const slug = (name) => name.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-$/, '');

describe(`@langchain/openai ${e2e.version('@langchain/openai')} + @langchain/anthropic ${e2e.version('@langchain/anthropic')} (@langchain/core ${e2e.version('@langchain/core')}, its @anthropic-ai/sdk ${e2e.version('@langchain/anthropic/node_modules/@anthropic-ai/sdk')})`, () => {
  for (const m of models) {
    const tagOf = (what) => `langchain-${slug(m.name)}-${what}`;

    test(`${m.name}: invoke PII round trip`, async () => {
      const tag = tagOf('pii');
      const r = await m.make({ maxRetries: 0 }).invoke(e2e.pii(tag));
      assert.equal(r.text, e2e.pii(tag));
      e2e.assertUpstream(tag, { path: m.path });
    });

    test(`${m.name}: stream text`, async () => {
      const tag = tagOf('stream');
      let merged;
      let n = 0;
      for await (const c of await m.make({ maxRetries: 0 }).stream(e2e.pii(tag))) {
        merged = merged ? merged.concat(c) : c;
        n++;
      }
      assert.equal(merged.text, e2e.pii(tag));
      assert.ok(n > 3, `expected a real stream, got ${n} chunks`);
      e2e.assertUpstream(tag);
    });

    test(`${m.name}: bound tools, streamed: two tool calls, interleaved`, async () => {
      const tag = tagOf('tools');
      const model = m.make({ maxRetries: 0 }).bindTools(tools);
      let merged;
      for await (const c of await model.stream(e2e.toolsPrompt(tag))) merged = merged ? merged.concat(c) : c;
      e2e.assertToolCalls(merged.tool_calls.map((c) => ({ name: c.name, args: c.args })), 'tool_calls');
      assert.equal(merged.invalid_tool_calls?.length ?? 0, 0, 'invalid tool calls');
      const byIndex = new Map();
      for (const c of merged.tool_call_chunks) byIndex.set(c.id, c);
      assert.equal(byIndex.size, 2, 'tool_call_chunks merged into two calls');
      e2e.assertToolCalls([...byIndex.values()].map((c) => ({ name: c.name, args: c.args })), 'tool_call_chunks');
      e2e.assertUpstream(tag);
    });

    test(`${m.name}: upstream 429 with retry-after, LangChain's retry succeeds`, async () => {
      const tag = tagOf('retry');
      const r = await m.make({ maxRetries: 2 }).invoke(e2e.pii(tag) + e2e.failOnce(40 + models.indexOf(m)));
      assert.equal(r.text, e2e.pii(tag));
      e2e.assertUpstream(tag, { want: 2 });
    });
  }
});
