// A node:test reporter that prints one line per client (a top-level
// describe of a test file): its name and how many of its tests passed,
// failed, were skipped or are known bugs (todo). run.sh prints it after
// the spec reporter's output.
export default async function* summary(source) {
  const rows = new Map(); // top-level suite name -> counts
  const order = [];
  const suiteOf = new Map(); // file -> current top-level suite
  for await (const ev of source) {
    if (ev.type === 'test:start' && ev.data.nesting === 0) suiteOf.set(ev.data.file, ev.data.name);
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') continue;
    const name = d.nesting === 0 ? d.file?.split('/').pop() : suiteOf.get(d.file);
    if (!rows.has(name)) {
      rows.set(name, { pass: 0, fail: 0, skip: 0, todo: 0, ms: 0 });
      order.push(name);
    }
    const r = rows.get(name);
    r.ms += d.details?.duration_ms ?? 0;
    if (d.todo !== undefined && d.todo !== false) r.todo++;
    else if (d.skip !== undefined && d.skip !== false) r.skip++;
    else if (ev.type === 'test:pass') r.pass++;
    else r.fail++;
  }
  for (const name of order) {
    const r = rows.get(name);
    const extra = [r.skip && `${r.skip} skipped`, r.todo && `${r.todo} known bug (todo)`].filter(Boolean).join(', ');
    yield `${r.fail ? 'FAIL' : 'ok  '} ${name}: ${r.pass} passed, ${r.fail} failed${extra ? ', ' + extra : ''} (${(r.ms / 1000).toFixed(1)}s)\n`;
  }
}
