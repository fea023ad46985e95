import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { href } from '../router.js';
import { num, utc } from '../format.js';
import { decodeBase64 } from '../proof/note.js';
import { verifyEntry } from '../proof/verify.js';
import { keyFor, pinnedKey, setPinnedKey } from '../trust.js';
import { ErrorBox, Loading } from '../components/ui.jsx';
import { Verdict } from '../components/Verdict.jsx';

const dec = new TextDecoder('utf-8', { fatal: true });

// The entry as the log holds it: the canonical bytes, pretty-printed.
function entryText(b64) {
  try {
    return JSON.stringify(JSON.parse(dec.decode(decodeBase64(b64))), null, 2);
  } catch {
    return null;
  }
}

/** Entry: one audit entry, its inclusion proof and the signed checkpoint, checked here. */
export function Entry({ idx }) {
  const [state, setState] = useState({ loading: true });
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const [pin, setPin] = useState(pinnedKey());
  const [pinMsg, setPinMsg] = useState('');
  useEffect(() => {
    let live = true;
    setState({ loading: true });
    setResult(null);
    api('entries/' + idx).then(
      (data) => live && setState({ data }),
      (error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [idx]);
  const { data, error, loading } = state;
  const verify = async () => {
    setBusy(true);
    setResult(null);
    try {
      const k = keyFor(data.verifier_key);
      const r = await verifyEntry(data, idx, k.key);
      setResult({ ...r, pinned: k.pinned, differs: k.differs });
    } catch {
      setResult({ ok: false, steps: [{ name: 'the check could not run', ok: false }] });
    } finally {
      setBusy(false);
    }
  };
  const savePin = (e) => {
    e.preventDefault();
    setPinnedKey(pin.trim());
    setPinMsg(pin.trim() ? 'Pinned: proofs are now checked against this key.' : 'Unpinned: proofs are checked against the key the gateway serves.');
  };
  const text = data ? entryText(data.entry_b64) : null;
  return (
    <>
      <p class="crumbs">
        <a href="#/audit">Audit log</a> <span aria-hidden="true">›</span> Entry #{idx}
      </p>
      <h1>Audit entry #{idx}</h1>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data ? (
        <>
          <div class="grid2">
            <section aria-labelledby="entry-h">
              <h2 id="entry-h">Entry</h2>
              <p class="muted small">
                The canonical entry the log commits to (decoded from the exact bytes the proof is over).
                {data.entry?.kind ? ` Kind ${data.entry.kind}, ${utc(data.entry.time)}.` : ''}
              </p>
              {text === null ? (
                <p class="error" role="alert">
                  The entry bytes are not valid canonical JSON.
                </p>
              ) : (
                <pre class="code" tabindex={0} aria-label="Canonical entry">
                  {text}
                </pre>
              )}
              {data.entry?.intent !== undefined ? (
                <p>
                  Closes the intent <a href={href('/audit/' + data.entry.intent)}>#{data.entry.intent}</a>.
                </p>
              ) : null}
            </section>
            <section aria-labelledby="proof-h">
              <h2 id="proof-h">Proof</h2>
              <dl class="kv">
                <dt>Leaf index</dt>
                <dd>{num(data.proof?.index)}</dd>
                <dt>Tree size</dt>
                <dd>{num(data.proof?.tree_size)}</dd>
                <dt>Audit path</dt>
                <dd>{num(data.proof?.hashes?.length)} hashes</dd>
                <dt>Verifier key</dt>
                <dd>
                  <code class="wrap">{data.verifier_key}</code>
                </dd>
              </dl>
              <h3>Signed checkpoint</h3>
              <pre class="code" tabindex={0} aria-label="Signed checkpoint">
                {data.checkpoint}
              </pre>
              <button type="button" onClick={verify} disabled={busy}>
                {busy ? 'Verifying…' : 'Verify proof'}
              </button>
              <div role="status" aria-live="polite">
                <Verdict result={result} what="Inclusion proof" testId="proof-verdict" />
                {result ? (
                  <p class="muted small">
                    {result.pinned
                      ? result.differs
                        ? 'Checked with your pinned verifier key, which is not the key the gateway served.'
                        : 'Checked with your pinned verifier key.'
                      : 'Checked with the verifier key the gateway served. Compare it with the key your organisation published, or pin that key below.'}
                  </p>
                ) : null}
              </div>
              <form class="pin" onSubmit={savePin}>
                <div class="field">
                  <label for="pin-key">Trusted verifier key (kept in this browser)</label>
                  <input id="pin-key" value={pin} onInput={(e) => setPin(e.currentTarget.value)} autocomplete="off" spellcheck={false} placeholder="name+hash+key" />
                </div>
                <button type="submit" class="secondary">
                  Pin key
                </button>
                <p class="muted small" role="status">
                  {pinMsg}
                </p>
              </form>
            </section>
          </div>
        </>
      ) : null}
    </>
  );
}
