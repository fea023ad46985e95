import { useMemo, useState } from 'preact/hooks';
import { useApi } from '../hooks.js';
import { num, utc, windowRange } from '../format.js';
import { ErrorBox, Loading, WindowPicker } from '../components/ui.jsx';

/** Alerts: drift and leak alerts raised by the gateway. */
export function Alerts() {
  const [win, setWin] = useState('7d');
  const range = useMemo(() => windowRange(win), [win]);
  const { data, error, loading } = useApi('alerts', { since: range.since }, [range]);
  const alerts = data?.alerts || [];
  return (
    <>
      <div class="page-head">
        <h1>Alerts</h1>
        <WindowPicker value={win} onChange={setWin} />
      </div>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Severity</th>
                <th scope="col">Kind</th>
                <th scope="col">Subject</th>
                <th scope="col">Message</th>
                <th scope="col" class="n">
                  Value
                </th>
                <th scope="col" class="n">
                  Baseline
                </th>
              </tr>
            </thead>
            <tbody>
              {alerts.length === 0 ? (
                <tr>
                  <td colspan={7} class="muted">
                    No alerts in this window.
                  </td>
                </tr>
              ) : (
                alerts.map((a) => (
                  <tr key={a.id}>
                    <td class="nowrap">{utc(a.time)}</td>
                    <td>
                      <span class={'pill sev-' + a.severity}>{a.severity}</span>
                    </td>
                    <td>{a.kind}</td>
                    <td>{[a.subject?.principal, a.subject?.model, a.subject?.type].filter(Boolean).join(' · ') || '—'}</td>
                    <td>{a.message}</td>
                    <td class="n">{typeof a.value === 'number' ? num(Math.round(a.value * 100) / 100) : '—'}</td>
                    <td class="n">{typeof a.baseline === 'number' ? num(Math.round(a.baseline * 100) / 100) : '—'}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
