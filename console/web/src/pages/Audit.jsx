import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { href, navigate } from '../router.js';
import { findingsText, utc } from '../format.js';
import { ErrorBox, Loading } from '../components/ui.jsx';
import { Consistency } from '../components/Consistency.jsx';

const FILTERS = ['since', 'until', 'principal', 'tenant', 'model', 'decision', 'status', 'kind', 'error', 'limit'];
const KINDS = ['request', 'intent', 'completion', 'aborted', 'admin'];
const DECISIONS = ['allow', 'deidentify', 'deny'];

// datetime-local values are shown and read as UTC.
const toLocalInput = (rfc) => (rfc ? rfc.replace(/Z$/, '').slice(0, 16) : '');
const fromLocalInput = (v) => (v ? v + ':00Z' : '');

/** Audit: search the log, newest first, paged on the server by entry index. */
export function Audit({ params }) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const before = params.get('before') || '';
  const key = FILTERS.map((k) => filters[k]).join('\u0000') + '\u0000' + before;
  const [form, setForm] = useState(filters);
  const [state, setState] = useState({ loading: true });
  // The "before" of each page seen before this one ("-" for the newest),
  // so "Newer" can go back.
  const trail = (params.get('trail') || '').split(',').filter(Boolean);

  useEffect(() => setForm(filters), [key]);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    api('entries', { query: { ...filters, before, limit: filters.limit || 50 } }).then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key]);

  const submit = (e) => {
    e.preventDefault();
    navigate(href('/audit', form));
  };
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const { data, error, loading } = state;
  const entries = data?.entries || [];
  return (
    <>
      <h1>Audit log</h1>
      <form class="search" onSubmit={submit} aria-labelledby="search-h">
        <h2 id="search-h" class="sr-only">
          Search
        </h2>
        <div class="field">
          <label for="f-since">From (UTC)</label>
          <input id="f-since" type="datetime-local" value={toLocalInput(form.since)} onInput={(e) => setForm({ ...form, since: fromLocalInput(e.currentTarget.value) })} />
        </div>
        <div class="field">
          <label for="f-until">To (UTC)</label>
          <input id="f-until" type="datetime-local" value={toLocalInput(form.until)} onInput={(e) => setForm({ ...form, until: fromLocalInput(e.currentTarget.value) })} />
        </div>
        <div class="field">
          <label for="f-principal">Principal</label>
          <input id="f-principal" value={form.principal} onInput={set('principal')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="f-tenant">Tenant</label>
          <input id="f-tenant" value={form.tenant} onInput={set('tenant')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="f-model">Model</label>
          <input id="f-model" value={form.model} onInput={set('model')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="f-decision">Decision</label>
          <select id="f-decision" value={form.decision} onChange={set('decision')}>
            <option value="">Any</option>
            {DECISIONS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-status">HTTP status</label>
          <input id="f-status" inputmode="numeric" pattern="[0-9]{3}" value={form.status} onInput={set('status')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-kind">Kind</label>
          <select id="f-kind" value={form.kind} onChange={set('kind')}>
            <option value="">Any</option>
            {KINDS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-error">Error code</label>
          <input id="f-error" value={form.error} onInput={set('error')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="actions">
          <button type="submit">Search</button>
          <a class="button secondary" href="#/audit">
            Clear
          </a>
        </div>
      </form>
      <ErrorBox error={error} />
      <section aria-labelledby="results-h">
        <h2 id="results-h">Entries{before ? ` before #${before}` : ', newest first'}</h2>
        {loading ? <Loading /> : null}
        <div class="scroll">
          <table class="entries" aria-busy={loading ? 'true' : 'false'}>
            <thead>
              <tr>
                <th scope="col">Index</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Kind</th>
                <th scope="col">Principal</th>
                <th scope="col">Tenant</th>
                <th scope="col">Model</th>
                <th scope="col">Zone</th>
                <th scope="col">Decision</th>
                <th scope="col">Status</th>
                <th scope="col">Findings</th>
              </tr>
            </thead>
            <tbody>
              {!loading && entries.length === 0 ? (
                <tr>
                  <td colspan={10} class="muted">
                    No entries match.
                  </td>
                </tr>
              ) : (
                entries.map((e) => (
                  <tr key={e.index}>
                    <th scope="row">
                      <a href={href('/audit/' + e.index)} aria-label={`Entry ${e.index}`}>
                        #{e.index}
                      </a>
                    </th>
                    <td class="nowrap">{utc(e.time)}</td>
                    <td>{e.kind}</td>
                    <td>{e.principal || e.tool || '—'}</td>
                    <td>{e.tenant || '—'}</td>
                    <td>
                      <code>{e.model || e.server || '—'}</code>
                    </td>
                    <td>{e.zone || '—'}</td>
                    <td>{e.decision ? <span class={'pill ' + e.decision}>{e.decision}</span> : '—'}</td>
                    <td>
                      {e.status || '—'}
                      {e.error ? <span class="muted"> {e.error}</span> : null}
                    </td>
                    <td>{findingsText(e.findings)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        <nav class="pager" aria-label="Pages of entries">
          {before ? (
            <a class="button secondary" href={href('/audit', { ...filters, before: trail.at(-1) === '-' ? '' : trail.at(-1) || '', trail: trail.slice(0, -1).join(',') })}>
              Newer
            </a>
          ) : null}
          {data?.next != null ? (
            <a class="button secondary" href={href('/audit', { ...filters, before: data.next, trail: [...trail, before || '-'].join(',') })}>
              Older
            </a>
          ) : null}
        </nav>
      </section>
      <Consistency />
    </>
  );
}
