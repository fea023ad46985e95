// The result of a proof check: a clear OK or FAILED with each step.

/** Verdict shows {ok, steps} from proof/verify.js, or an error if the check could not run. */
export function Verdict({ result, what, testId }) {
  if (!result) return null;
  return (
    <div class={'verdict ' + (result.ok ? 'ok' : 'failed')} data-testid={testId}>
      <p class="verdict-head">
        <span class="verdict-word">{result.ok ? 'OK' : 'FAILED'}</span> {result.ok ? `${what} verified.` : `${what} did not verify.`}
      </p>
      {result.steps ? (
        <ul class="steps">
          {result.steps.map((s) => (
            <li key={s.name} class={s.ok ? 'ok' : 'failed'}>
              <span class="mark" aria-hidden="true">
                {s.ok ? '✓' : '✗'}
              </span>
              <span class="sr-only">{s.ok ? 'passed: ' : 'failed: '}</span>
              {s.name}
              {s.detail ? <span class="muted"> — {s.detail}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
