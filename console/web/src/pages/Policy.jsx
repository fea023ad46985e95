import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useApi } from '../hooks.js';
import { href } from '../router.js';
import { findingsText, utc } from '../format.js';
import { ErrorBox, Loading } from '../components/ui.jsx';

const ENDPOINTS = ['chat', 'responses', 'completions', 'embeddings', 'messages'];
const SAMPLE = JSON.stringify(
  {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Write to jane.roe@example.org about card 4111 1111 1111 1111.' }],
  },
  null,
  2,
);

const ruleText = (r) => (typeof r === 'string' ? r : JSON.stringify(r, null, 2));

/** Policy: the rules in force, the policy hash history and a "try it" panel. */
export function Policy() {
  const { data, error, loading } = useApi('policy', null, []);
  return (
    <>
      <h1>Policy</h1>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <p>
            Policy hash: <code class="wrap">{data.hash}</code>
          </p>
          <section aria-labelledby="rules-h">
            <h2 id="rules-h">Rules</h2>
            {(data.rules || []).length === 0 ? (
              <p class="muted">No rules: the defaults apply (tokenize personal, financial and health data; refuse secrets).</p>
            ) : (
              <ol class="rules">
                {data.rules.map((r, i) => (
                  <li key={i}>
                    {r && r.name ? <h3>{r.name}</h3> : null}
                    <pre class="code" tabindex={0} aria-label={`Rule ${i + 1}`}>
                      {ruleText(r)}
                    </pre>
                  </li>
                ))}
              </ol>
            )}
          </section>
          <section aria-labelledby="hist-h">
            <h2 id="hist-h">Hash history</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Time (UTC)</th>
                    <th scope="col">Policy hash</th>
                    <th scope="col">Audit entry</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.history || []).length === 0 ? (
                    <tr>
                      <td colspan={3} class="muted">
                        No history recorded.
                      </td>
                    </tr>
                  ) : (
                    data.history.map((h) => (
                      <tr key={h.index}>
                        <td class="nowrap">{utc(h.time)}</td>
                        <td>
                          <code class="wrap">{h.hash}</code>
                        </td>
                        <td>{h.index != null ? <a href={href('/audit/' + h.index)}>#{h.index}</a> : '—'}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
          </section>
        </>
      ) : null}
      <TryIt />
    </>
  );
}

function TryIt() {
  const [form, setForm] = useState({ request: SAMPLE, endpoint: 'chat', principal: '', tenant: '', roles: '' });
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [parseError, setParseError] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    let request;
    try {
      request = JSON.parse(form.request);
    } catch {
      setParseError('The request is not valid JSON.');
      return;
    }
    setParseError('');
    try {
      const roles = form.roles
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      setResult(await api('policy/test', { method: 'POST', body: { request, endpoint: form.endpoint, principal: form.principal.trim(), tenant: form.tenant.trim(), roles } }));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="try-h" class="panel">
      <h2 id="try-h">Try it</h2>
      <p class="muted">
        Runs detection and the policy on a pasted request, as the gateway would for this caller. Nothing is sent to a model and
        nothing is stored; the answer names types and rules, never the values found.
      </p>
      <form onSubmit={submit}>
        <div class="field">
          <label for="t-request">Request body (JSON)</label>
          <textarea
            id="t-request"
            rows={9}
            value={form.request}
            onInput={set('request')}
            spellcheck={false}
            aria-invalid={parseError ? 'true' : 'false'}
            aria-describedby={parseError ? 't-request-err' : undefined}
          />
          {parseError ? (
            <span id="t-request-err" class="error">
              {parseError}
            </span>
          ) : null}
        </div>
        <div class="grid-form">
          <div class="field">
            <label for="t-endpoint">Endpoint</label>
            <select id="t-endpoint" value={form.endpoint} onChange={set('endpoint')}>
              {ENDPOINTS.map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="t-principal">Principal</label>
            <input id="t-principal" value={form.principal} onInput={set('principal')} autocomplete="off" spellcheck={false} />
          </div>
          <div class="field">
            <label for="t-tenant">Tenant</label>
            <input id="t-tenant" value={form.tenant} onInput={set('tenant')} autocomplete="off" spellcheck={false} />
          </div>
          <div class="field">
            <label for="t-roles">Roles (comma-separated)</label>
            <input id="t-roles" value={form.roles} onInput={set('roles')} autocomplete="off" spellcheck={false} />
          </div>
          <div class="actions">
            <button type="submit">Test</button>
          </div>
        </div>
      </form>
      <ErrorBox error={error} />
      <div role="status" aria-live="polite">
        {result ? (
          <dl class="kv result" data-testid="policy-result">
            <dt>Decision</dt>
            <dd>
              <span class={'pill ' + result.decision}>{result.decision}</span>
            </dd>
            <dt>Reasons</dt>
            <dd>{(result.reasons || []).join(', ') || '—'}</dd>
            <dt>Rules matched</dt>
            <dd>{(result.rules || []).join(', ') || '—'}</dd>
            <dt>Findings</dt>
            <dd>{findingsText(result.findings)}</dd>
          </dl>
        ) : null}
      </div>
    </section>
  );
}
