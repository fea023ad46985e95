import { useMemo, useState } from 'preact/hooks';
import { useApi } from '../hooks.js';
import { windowRange, num, utc } from '../format.js';
import { BarTable, ErrorBox, Loading, Stat, WindowPicker } from '../components/ui.jsx';
import { TimeChart } from '../components/Chart.jsx';

/** Overview: totals, traffic over time, refusals and findings, per model and zone. */
export function Overview() {
  const [win, setWin] = useState('24h');
  const range = useMemo(() => windowRange(win), [win]);
  const { data, error, loading } = useApi('overview', range, [range]);
  const chart = useMemo(() => {
    if (!data) return null;
    const s = data.series || [];
    const col = (k) => s.map((p) => p[k] ?? 0);
    return {
      times: s.map((p) => p.t),
      traffic: [
        { label: 'Requests', values: col('requests') },
        { label: 'Refusals', values: col('refusals') },
        { label: 'Findings', values: col('findings') },
      ],
      leaks: [
        { label: 'Leaks', values: col('leaks'), colour: '#b91c1c' },
        { label: 'Restores', values: col('restores'), colour: '#047857' },
      ],
    };
  }, [data]);
  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <WindowPicker value={win} onChange={setWin} />
      </div>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <p class="muted">
            From {utc(data.window?.since)} to {utc(data.window?.until)}, in steps of {data.window?.step}. Audit log:{' '}
            {num(data.log?.size)} entries, {num(data.log?.checkpoint_size)} under the latest signed checkpoint.
          </p>
          <section aria-labelledby="totals-h">
            <h2 id="totals-h">Totals</h2>
            <dl class="stats">
              <Stat label="Requests" value={data.totals?.requests} />
              <Stat label="Refusals" value={data.totals?.refusals} tone="warn" />
              <Stat label="Findings" value={data.totals?.findings} />
              <Stat label="Leaks" value={data.totals?.leaks} tone="bad" />
              <Stat label="Restores" value={data.totals?.restores} />
            </dl>
          </section>
          <section aria-labelledby="time-h">
            <h2 id="time-h">Over time</h2>
            <div class="grid2">
              <TimeChart title="Requests, refusals and findings" times={chart.times} series={chart.traffic} />
              <TimeChart title="Leaks and restores" times={chart.times} series={chart.leaks} />
            </div>
          </section>
          <section aria-labelledby="why-h">
            <h2 id="why-h">Refusals and findings</h2>
            <div class="grid3">
              <BarTable caption="Refusals by reason" keyLabel="Reason" map={data.refusals_by_reason} />
              <BarTable caption="Findings by type" keyLabel="Type" map={data.findings_by_type} />
              <BarTable caption="Findings by category" keyLabel="Category" map={data.findings_by_category} />
            </div>
          </section>
          <section aria-labelledby="models-h">
            <h2 id="models-h">By model and zone</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Zone</th>
                    <th scope="col" class="n">
                      Requests
                    </th>
                    <th scope="col" class="n">
                      Findings
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {(data.by_model || []).length === 0 ? (
                    <tr>
                      <td colspan={4} class="muted">
                        No traffic in this window.
                      </td>
                    </tr>
                  ) : (
                    data.by_model.map((m) => (
                      <tr key={m.model + '\u0000' + m.zone}>
                        <th scope="row">
                          <code>{m.model || '—'}</code>
                        </th>
                        <td>{m.zone || '—'}</td>
                        <td class="n">{num(m.requests)}</td>
                        <td class="n">{num(m.findings)}</td>
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
