import { useMemo, useState } from 'preact/hooks';
import { useApi } from '../hooks.js';
import { num, windowRange } from '../format.js';
import { ErrorBox, Loading, WindowPicker } from '../components/ui.jsx';
import { Sankey, flowGraph } from '../components/Sankey.jsx';

/** Flows: who sends which categories of personal data to which model, in which zone. */
export function Flows() {
  const [win, setWin] = useState('24h');
  const [by, setBy] = useState('principal');
  const range = useMemo(() => windowRange(win), [win]);
  const { data, error, loading } = useApi('flows', { since: range.since, until: range.until }, [range]);
  const links = useMemo(() => [...(data?.links || [])].sort((a, b) => b.count - a.count), [data]);
  const graph = useMemo(() => flowGraph(links, by), [links, by]);
  const total = links.reduce((n, l) => n + (l.count || 0), 0);
  return (
    <>
      <div class="page-head">
        <h1>Data flows</h1>
        <div class="controls">
          <WindowPicker value={win} onChange={setWin} />
          <div class="field inline">
            <label for="flow-by">Source</label>
            <select id="flow-by" value={by} onChange={(e) => setBy(e.currentTarget.value)}>
              <option value="principal">Principal</option>
              <option value="tenant">Tenant</option>
            </select>
          </div>
        </div>
      </div>
      <p class="muted">
        From the audit log: each band is requests, from a {by} through the category of personal data found in them, to the model
        and the zone it runs in.
      </p>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <section aria-labelledby="sankey-h">
            <h2 id="sankey-h">Flow map</h2>
            <div class="legend-cols" aria-hidden="true">
              <span>{by === 'tenant' ? 'Tenant' : 'Principal'}</span>
              <span>Finding category</span>
              <span>Model</span>
              <span>Zone</span>
            </div>
            <Sankey
              graph={graph}
              label={`Sankey diagram of ${num(total)} requests from ${by}s through finding categories to models and zones; the same flows are listed in the table below`}
            />
          </section>
          <section aria-labelledby="matrix-h">
            <h2 id="matrix-h">All flows</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Tenant</th>
                    <th scope="col">Principal</th>
                    <th scope="col">Category</th>
                    <th scope="col">Model</th>
                    <th scope="col">Zone</th>
                    <th scope="col" class="n">
                      Requests
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {links.length === 0 ? (
                    <tr>
                      <td colspan={6} class="muted">
                        No flows in this window.
                      </td>
                    </tr>
                  ) : (
                    links.map((l, i) => (
                      <tr key={i}>
                        <td>{l.tenant || '—'}</td>
                        <td>{l.principal || '—'}</td>
                        <td>{l.category || 'no findings'}</td>
                        <td>
                          <code>{l.model || '—'}</code>
                        </td>
                        <td>{l.zone || '—'}</td>
                        <td class="n">{num(l.count)}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
          </section>
        </>
      ) : null}
    </>
  );
}
