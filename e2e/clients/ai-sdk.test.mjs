// Client matrix: the Vercel AI SDK (`ai` with `@ai-sdk/openai` and
// `@ai-sdk/anthropic`) through warden serve: generateText, streamText
// with tools (two steps: the calls, then the answer to their results)
// and generateObject, over Chat Completions, Responses and Messages.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateObject, generateText, isStepCount, Output, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import * as e2e from '../lib.mjs';

globalThis.AI_SDK_LOG_WARNINGS = false; // the stand-in's model ids are unknown to the SDK

const openai = createOpenAI({ apiKey: e2e.key, baseURL: `${e2e.base}/v1` });
const anthropic = createAnthropic({ apiKey: e2e.key, baseURL: `${e2e.base}/v1` });

// The providers' API paths: openai(id) is the Responses API,
// openai.chat(id) Chat Completions.
const providers = [
  { name: 'openai.chat', model: () => openai.chat(e2e.chatModel), path: '/v1/chat/completions' },
  { name: 'openai.responses', model: () => openai.responses(e2e.chatModel), path: '/v1/responses' },
  { name: 'anthropic', model: () => anthropic(e2e.claudeModel), path: '/v1/messages' },
];

// tools execute by returning what they were given, so the second step's
// request carries the restored PII as tool results (tokenized again on
// the way up) and the stand-in's answer echoes them.
function tools() {
  return {
    lookup_customer: tool({
      description: e2e.toolSchemas.lookup_customer.description,
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => ({ found: query }),
    }),
    file_ticket: tool({
      description: e2e.toolSchemas.file_ticket.description,
      inputSchema: z.object({ note: z.string(), priority: z.number().int() }),
      execute: async ({ note }) => ({ filed: note }),
    }),
  };
}

describe(`ai ${e2e.version('ai')} + @ai-sdk/openai ${e2e.version('@ai-sdk/openai')} + @ai-sdk/anthropic ${e2e.version('@ai-sdk/anthropic')}`, () => {
  for (const p of providers) {
    test(`${p.name}: generateText PII round trip`, async () => {
      const tag = `aisdk-${p.name}-pii`;
      const r = await generateText({ model: p.model(), prompt: e2e.pii(tag), maxRetries: 0 });
      assert.equal(r.text, e2e.pii(tag));
      assert.equal(r.finishReason, 'stop');
      e2e.assertUpstream(tag, { path: p.path });
    });

    test(`${p.name}: streamText text`, async () => {
      const tag = `aisdk-${p.name}-stream`;
      const r = streamText({ model: p.model(), prompt: e2e.pii(tag), maxRetries: 0 });
      let text = '';
      let deltas = 0;
      for await (const d of r.textStream) {
        text += d;
        deltas++;
      }
      assert.equal(text, e2e.pii(tag));
      assert.ok(deltas > 3, `expected a real stream, got ${deltas} deltas`);
      assert.equal(await r.finishReason, 'stop');
      e2e.assertUpstream(tag);
    });

    test(`${p.name}: streamText with two tools, interleaved, then the answer`, async () => {
      const tag = `aisdk-${p.name}-tools`;
      const r = streamText({ model: p.model(), prompt: e2e.toolsPrompt(tag), tools: tools(), stopWhen: isStepCount(2), maxRetries: 0 });
      const inputs = new Map();
      const names = new Map();
      for await (const part of r.fullStream) {
        if (part.type === 'tool-input-start') names.set(part.id, part.toolName);
        if (part.type === 'tool-input-delta') inputs.set(part.id, (inputs.get(part.id) ?? '') + part.delta);
        if (part.type === 'error') throw part.error;
      }
      const steps = await r.steps;
      assert.equal(steps.length, 2, 'steps');
      const calls = steps[0].toolCalls;
      e2e.assertToolCalls(calls.map((c) => ({ name: c.toolName, args: c.input })), 'tool calls');
      e2e.assertToolCalls(calls.map((c) => ({ name: names.get(c.toolCallId), args: inputs.get(c.toolCallId) })), 'tool-input deltas');
      assert.equal(steps[0].toolResults.length, 2);
      e2e.assertRestored(await r.text, 'answer to the tool results');
      e2e.assertUpstream(tag, { want: 2 });
    });

    // The stand-in answers a response_format (or output_config) request
    // with the echo, so the prompt is the object; a forced json tool with
    // a call whose string properties all hold the echo.
    const schema = z.object({ note: z.string(), contact: z.string() });
    const objectPrompt = (tag) => JSON.stringify({ note: e2e.pii(tag), contact: e2e.email });
    const checkObject = (o) => {
      e2e.assertRestored(o.note, 'object.note');
      assert.ok(o.contact.includes(e2e.email), 'object.contact');
    };

    test(`${p.name}: generateObject`, async () => {
      const tag = `aisdk-${p.name}-object`;
      const r = await generateObject({ model: p.model(), schema, prompt: objectPrompt(tag), maxRetries: 0 });
      checkObject(r.object);
      e2e.assertUpstream(tag);
    });

    test(`${p.name}: generateText with Output.object`, async () => {
      const tag = `aisdk-${p.name}-output`;
      const r = await generateText({ model: p.model(), output: Output.object({ schema }), prompt: objectPrompt(tag), maxRetries: 0 });
      checkObject(r.output);
      e2e.assertUpstream(tag);
    });

    if (p.name === 'anthropic') {
      test('anthropic: generateObject through the forced json tool', async () => {
        const tag = 'aisdk-anthropic-jsontool';
        const r = await generateObject({
          model: p.model(),
          schema,
          prompt: e2e.pii(tag),
          providerOptions: { anthropic: { structuredOutputMode: 'jsonTool' } },
          maxRetries: 0,
        });
        e2e.assertRestored(r.object.note, 'object.note');
        e2e.assertRestored(r.object.contact, 'object.contact');
        const [up] = e2e.assertUpstream(tag);
        const sent = JSON.parse(up.body);
        assert.deepEqual([sent.tools.map((t) => t.name), sent.tool_choice?.type], [['json'], 'any'], 'the SDK did not force its json tool');
      });
    }

    test(`${p.name}: upstream 429 with retry-after, the SDK retry succeeds`, async () => {
      const tag = `aisdk-${p.name}-429`;
      const ms = 30 + providers.indexOf(p);
      const r = await generateText({ model: p.model(), prompt: e2e.pii(tag) + e2e.failOnce(ms), maxRetries: 2 });
      assert.equal(r.text, e2e.pii(tag));
      e2e.assertUpstream(tag, { want: 2 });
    });
  }
});
