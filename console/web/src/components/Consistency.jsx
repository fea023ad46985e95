// Consistency between two signed checkpoints, checked in the browser.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { num, utc } from '../format.js';
import { verifyCheckpoints } from '../proof/verify.js';
import { keyFor } from '../trust.js';
import { ErrorBox } from './ui.jsx';
import { Verdict } from './Verdict.jsx';

/** Consistency picks two checkpoints and checks that the older is a prefix of the newer. */
export function Consistency() {
  const [cps, setCps] = useState(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const [vkey, setVkey] = useState(null);
  useEffect(() => {
    api('checkpoints', { query: { limit: 20 } }).then(
      (d) => {
        const list = [...(d.checkpoints || [])].sort((a, b) => b.size - a.size);
        setCps(list);
        if (list.length) setTo(String(list[0].size));
        if (list.length > 1) setFrom(String(list[list.length - 1].size));
        else if (list.length) setFrom(String(list[0].size));
      },
      (e) => setError(e),
    );
  }, []);
  const check = async (e) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    setError(null);
    try {
      const resp = await api('consistency', { query: { from, to } });
      // The key served with the proofs; an entry bundle has it too, when
      // the consistency answer does not.
      let served = resp.verifier_key;
      if (!served && resp.to?.size > 0) served = (await api('entries/' + (resp.to.size - 1))).verifier_key;
      const k = keyFor(served);
      setVkey(k);
      setResult(k.key ? await verifyCheckpoints(resp, k.key) : { ok: false, steps: [{ name: 'a verifier key to check with', ok: false }] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const options = (cps || []).map((c) => (
    <option key={c.size} value={String(c.size)}>
      {num(c.size)} {c.size === 1 ? 'entry' : 'entries'} — {utc(c.time)}
    </option>
  ));
  return (
    <section aria-labelledby="cons-h" class="panel">
      <h2 id="cons-h">Consistency of two checkpoints</h2>
      <p class="muted">
        Checks in this browser that the log at the older checkpoint is a prefix of the log at the newer one (RFC 6962 consistency
        proof), and both checkpoints' signatures: nothing was removed or rewritten in between.
      </p>
      <ErrorBox error={error} />
      {cps && cps.length === 0 ? <p class="muted">No checkpoint has been published yet.</p> : null}
      {cps && cps.length > 0 ? (
        <form class="inline-form" onSubmit={check}>
          <div class="field">
            <label for="c-from">Older checkpoint</label>
            <select id="c-from" value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
              {options}
            </select>
          </div>
          <div class="field">
            <label for="c-to">Newer checkpoint</label>
            <select id="c-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
              {options}
            </select>
          </div>
          <div class="actions">
            <button type="submit" disabled={busy}>
              {busy ? 'Checking…' : 'Check consistency'}
            </button>
          </div>
        </form>
      ) : null}
      <div role="status" aria-live="polite">
        <Verdict result={result} what="Consistency" testId="consistency-verdict" />
        {result && vkey ? <p class="muted small">{vkey.pinned ? 'Checked with your pinned verifier key.' : 'Checked with the verifier key the gateway served; pin your own on an entry page.'}</p> : null}
      </div>
    </section>
  );
}
