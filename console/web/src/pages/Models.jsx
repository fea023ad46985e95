import { useApi } from '../hooks.js';
import { utc } from '../format.js';
import { ErrorBox, Loading } from '../components/ui.jsx';

const yes = (b) => (b ? 'yes' : 'no');

/** Models: the model registry (scans, signatures, approvals) and pinned MCP tool definitions. */
export function Models() {
  const { data, error, loading } = useApi('models', null, []);
  return (
    <>
      <h1>Models</h1>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <section aria-labelledby="reg-h">
            <h2 id="reg-h">Registry</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Digest</th>
                    <th scope="col">Scanned</th>
                    <th scope="col">Signed</th>
                    <th scope="col">Approved</th>
                    <th scope="col">By</th>
                    <th scope="col">At (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.models || []).length === 0 ? (
                    <tr>
                      <td colspan={7} class="muted">
                        No models registered (`warden model add`).
                      </td>
                    </tr>
                  ) : (
                    data.models.map((m) => (
                      <tr key={m.name + m.digest}>
                        <th scope="row">
                          <code>{m.name}</code>
                        </th>
                        <td>
                          <code class="wrap">{m.digest || '—'}</code>
                        </td>
                        <td>{yes(m.scanned)}</td>
                        <td>{yes(m.signed)}</td>
                        <td>{m.approved ? <span class="pill allow">approved</span> : <span class="pill deny">not approved</span>}</td>
                        <td>{m.approved_by || '—'}</td>
                        <td class="nowrap">{utc(m.at)}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="pins-h">
            <h2 id="pins-h">Pinned MCP tool definitions</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Server</th>
                    <th scope="col">Tool</th>
                    <th scope="col">Definition hash</th>
                    <th scope="col">State</th>
                    <th scope="col">Approved by</th>
                    <th scope="col">At (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.mcp_pins || []).length === 0 ? (
                    <tr>
                      <td colspan={6} class="muted">
                        No pinned tool definitions.
                      </td>
                    </tr>
                  ) : (
                    data.mcp_pins.map((p) => (
                      <tr key={p.server + '/' + p.tool}>
                        <td>{p.server}</td>
                        <th scope="row">
                          <code>{p.tool}</code>
                        </th>
                        <td>
                          <code class="wrap">{p.hash}</code>
                        </td>
                        <td>
                          <span class={'pill ' + p.state}>{p.state}</span>
                        </td>
                        <td>{p.approved_by || '—'}</td>
                        <td class="nowrap">{utc(p.at)}</td>
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
