// Client matrix: the OpenAI Agents SDK (`@openai/agents`) through warden
// serve, over Chat Completions and Responses: a plain run, runs (streamed
// and not) whose agent calls two tools in parallel and answers their
// results, and a run whose first model call meets an upstream 429.
// Tracing is off: its exporter would post to the OpenAI platform, which
// is no part of this.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, run, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import * as e2e from '../lib.mjs';

setTracingDisabled(true);

const client = (maxRetries) => new OpenAI({ apiKey: e2e.key, baseURL: `${e2e.base}/v1`, maxRetries, timeout: 20_000 });

const apis = [
  { name: 'chat', model: (c) => new OpenAIChatCompletionsModel(c, e2e.chatModel), path: '/v1/chat/completions' },
  { name: 'responses', model: (c) => new OpenAIResponsesModel(c, e2e.chatModel), path: '/v1/responses' },
];

// agent returns an agent on model; with calls, it has the two tools and
// records their calls there.
function agent(model, calls) {
  return new Agent({
    name: 'filer',
    instructions: 'File what the user asks for.',
    model,
    tools: !calls ? [] : [
      tool({
        name: 'lookup_customer',
        description: e2e.toolSchemas.lookup_customer.description,
        parameters: z.object({ query: z.string() }),
        execute: async (args) => {
          calls.push({ name: 'lookup_customer', args });
          return `found: ${args.query}`;
        },
      }),
      tool({
        name: 'file_ticket',
        description: e2e.toolSchemas.file_ticket.description,
        parameters: z.object({ note: z.string(), priority: z.number().int() }),
        execute: async (args) => {
          calls.push({ name: 'file_ticket', args });
          return `filed: ${args.note}`;
        },
      }),
    ],
  });
}

describe(`@openai/agents ${e2e.version('@openai/agents')}`, () => {
  for (const api of apis) {
    test(`${api.name}: run, PII round trip`, async () => {
      const tag = `agents-${api.name}-pii`;
      const r = await run(agent(api.model(client(0))), e2e.pii(tag));
      assert.equal(r.finalOutput, e2e.pii(tag));
      e2e.assertUpstream(tag, { path: api.path });
    });

    for (const stream of [true, false]) {
      test(`${api.name}: ${stream ? 'streamed ' : ''}run, two parallel tool calls, then the answer`, async () => {
        const tag = `agents-${api.name}-tools-${stream ? 'stream' : 'json'}`;
        const calls = [];
        const r = await run(agent(api.model(client(0)), calls), e2e.toolsPrompt(tag), { stream });
        let text = '';
        if (stream) {
          for await (const ev of r) {
            if (ev.type === 'raw_model_stream_event' && ev.data.type === 'output_text_delta') text += ev.data.delta;
          }
          await r.completed;
          assert.equal(text, r.finalOutput, 'streamed text');
        }
        calls.sort((a, b) => (a.name < b.name ? 1 : -1)); // lookup_customer, file_ticket
        e2e.assertToolCalls(calls, 'executed tool calls');
        const items = r.newItems.filter((i) => i.type === 'tool_call_item').map((i) => ({ name: i.rawItem.name, args: i.rawItem.arguments }));
        e2e.assertToolCalls(items, 'tool_call_item');
        e2e.assertRestored(r.finalOutput, 'final output');
        e2e.assertUpstream(tag, { want: 2 });
      });
    }

    test(`${api.name}: upstream 429 with retry-after, the client's retry succeeds`, async () => {
      const tag = `agents-${api.name}-retry`;
      const r = await run(agent(api.model(client(2))), e2e.pii(tag) + e2e.failOnce(50 + apis.indexOf(api)));
      assert.equal(r.finalOutput, e2e.pii(tag));
      e2e.assertUpstream(tag, { want: 2 });
    });
  }
});
