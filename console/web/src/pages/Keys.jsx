import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useApi } from '../hooks.js';
import { utc } from '../format.js';
import { ErrorBox, Loading } from '../components/ui.jsx';

const EXPIRIES = [
  ['', 'Never'],
  ['24h', '1 day'],
  ['168h', '7 days'],
  ['720h', '30 days'],
  ['2160h', '90 days'],
  ['8760h', '1 year'],
];
const ROLES = ['admin', 'auditor'];
const csv = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Keys: API keys, the key-encryption key's versions, and tenant erasure. */
export function Keys({ session }) {
  const admin = (session.roles || []).includes('admin');
  const { data, error, loading, reload } = useApi('keys', null, []);
  return (
    <>
      <h1>Keys</h1>
      {!admin ? <p class="note">You have read-only access: signing in with an admin key allows changes.</p> : null}
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? <ApiKeys keys={data.api_keys || []} admin={admin} reload={reload} /> : null}
      {admin ? <CreateKey reload={reload} /> : null}
      {data ? <Kek kek={data.kek} admin={admin} reload={reload} /> : null}
      {admin ? <Shred /> : null}
    </>
  );
}

function ApiKeys({ keys, admin, reload }) {
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  const revoke = async (id) => {
    setError(null);
    try {
      await api(`keys/${encodeURIComponent(id)}/revoke`, { method: 'POST', body: {} });
      setMsg(`Key ${id} revoked.`);
      setConfirm('');
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="apikeys-h">
      <h2 id="apikeys-h">API keys</h2>
      <ErrorBox error={error} />
      <p role="status" class="muted">
        {msg}
      </p>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Name</th>
              <th scope="col">Tenant</th>
              <th scope="col">Models</th>
              <th scope="col">Roles</th>
              <th scope="col">State</th>
              <th scope="col">Created (UTC)</th>
              <th scope="col">Expires (UTC)</th>
              {admin ? (
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {keys.length === 0 ? (
              <tr>
                <td colspan={admin ? 9 : 8} class="muted">
                  No API keys.
                </td>
              </tr>
            ) : (
              keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <th scope="row">
                    <code>{k.id}</code>
                  </th>
                  <td>{k.name}</td>
                  <td>{k.tenant || '—'}</td>
                  <td>{(k.models || []).join(', ') || '—'}</td>
                  <td>{(k.roles || []).join(', ') || '—'}</td>
                  <td>
                    <span class={'pill ' + k.state}>{k.state}</span>
                  </td>
                  <td class="nowrap">{utc(k.created_at)}</td>
                  <td class="nowrap">{k.expires_at ? utc(k.expires_at) : 'never'}</td>
                  {admin ? (
                    <td class="nowrap">
                      {k.state === 'active' ? (
                        confirm === k.id ? (
                          <>
                            <button type="button" class="danger" onClick={() => revoke(k.id)}>
                              Confirm revoke {k.name}
                            </button>{' '}
                            <button type="button" class="secondary" onClick={() => setConfirm('')}>
                              Cancel
                            </button>
                          </>
                        ) : (
                          <button type="button" class="secondary" onClick={() => setConfirm(k.id)} aria-label={`Revoke key ${k.name} (${k.id})`}>
                            Revoke
                          </button>
                        )
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function CreateKey({ reload }) {
  const [form, setForm] = useState({ name: '', tenant: '', models: '', roles: [], expires_in: '720h' });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [copied, setCopied] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const toggleRole = (r) => (e) => setForm({ ...form, roles: e.currentTarget.checked ? [...form.roles, r] : form.roles.filter((x) => x !== r) });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    setCopied('');
    try {
      const body = { name: form.name.trim(), tenant: form.tenant.trim(), models: csv(form.models), roles: form.roles };
      if (form.expires_in) body.expires_in = form.expires_in;
      const r = await api('keys', { method: 'POST', body });
      setCreated(r);
      setForm({ ...form, name: '' });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
    } catch {
      setCopied('Copying was refused: select the key and copy it by hand.');
    }
  };
  return (
    <section aria-labelledby="create-h" class="panel">
      <h2 id="create-h">Create an API key</h2>
      <form class="grid-form" onSubmit={submit}>
        <div class="field">
          <label for="k-name">Name</label>
          <input id="k-name" required value={form.name} onInput={set('name')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="k-tenant">Tenant</label>
          <input id="k-tenant" value={form.tenant} onInput={set('tenant')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="k-models">Models (comma-separated)</label>
          <input id="k-models" required value={form.models} onInput={set('models')} autocomplete="off" spellcheck={false} aria-describedby="k-models-hint" />
          <span id="k-models-hint" class="hint">
            The models this key may call, at least one; * for any.
          </span>
        </div>
        <fieldset class="field">
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label class="check" key={r}>
              <input type="checkbox" checked={form.roles.includes(r)} onChange={toggleRole(r)} /> {r}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="k-exp">Expires after</label>
          <select id="k-exp" value={form.expires_in} onChange={set('expires_in')}>
            {EXPIRIES.map(([v, l]) => (
              <option value={v} key={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div class="actions">
          <button type="submit">Create key</button>
        </div>
      </form>
      <ErrorBox error={error} />
      {created ? (
        <div class="once" role="status">
          <p>
            <strong>Key {created.id} created.</strong> Copy it now: it is shown only once and cannot be recovered.
          </p>
          <label for="new-key">New API key</label>
          <div class="copy-row">
            <input id="new-key" readOnly value={created.key} onFocus={(e) => e.currentTarget.select()} spellcheck={false} />
            <button type="button" class="secondary" onClick={copy}>
              Copy
            </button>
          </div>
          <p class="muted small">{copied}</p>
        </div>
      ) : null}
    </section>
  );
}

function Kek({ kek, admin, reload }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  const rotate = async () => {
    setError(null);
    try {
      const r = await api('kek/rotate', { method: 'POST', body: {} });
      setMsg(`Rotated: new data keys are now wrapped by version ${r.current}.`);
      setConfirming(false);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  if (!kek) return null;
  return (
    <section aria-labelledby="kek-h">
      <h2 id="kek-h">Key-encryption key</h2>
      <p>
        Current version: <strong>{kek.current}</strong>
      </p>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Created (UTC)</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {(kek.versions || []).map((v) => (
              <tr key={v.version}>
                <th scope="row">{v.version}</th>
                <td>{utc(v.created_at)}</td>
                <td>{v.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={error} />
      <p role="status" class="muted">
        {msg}
      </p>
      {admin ? (
        confirming ? (
          <p>
            <button type="button" class="danger" onClick={rotate}>
              Confirm rotation
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </p>
        ) : (
          <button type="button" class="secondary" onClick={() => setConfirming(true)}>
            Rotate key-encryption key
          </button>
        )
      ) : null}
    </section>
  );
}

function Shred() {
  const [tenant, setTenant] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  const ready = tenant.trim() !== '' && confirm === tenant.trim();
  const submit = async (e) => {
    e.preventDefault();
    if (!ready) return;
    setError(null);
    try {
      const r = await api(`tenants/${encodeURIComponent(tenant.trim())}/shred`, { method: 'POST', body: { confirm } });
      setMsg(`Tenant ${r.tenant} shredded: its keys are destroyed and its tokens can no longer be restored.`);
      setTenant('');
      setConfirm('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="shred-h" class="panel danger-zone">
      <h2 id="shred-h">Shred a tenant</h2>
      <p>Destroys the tenant's data keys: every token of the tenant becomes unrestorable, for good. This cannot be undone.</p>
      <form class="grid-form" onSubmit={submit}>
        <div class="field">
          <label for="s-tenant">Tenant</label>
          <input id="s-tenant" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <label for="s-confirm">Type the tenant's name again to confirm</label>
          <input id="s-confirm" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        </div>
        <div class="actions">
          <button type="submit" class="danger" disabled={!ready}>
            Shred tenant
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      <p role="status">{msg}</p>
    </section>
  );
}
