// Small building blocks shared by the pages.
import { WINDOWS, num, sortedEntries } from '../format.js';

/** ErrorBox shows an API error (its message names the problem, never a value). */
export function ErrorBox({ error }) {
  if (!error) return null;
  const what =
    error.status === 403
      ? 'Your role may not do this.'
      : error.status === 0
        ? 'The gateway could not be reached.'
        : error.message || 'Something went wrong.';
  return (
    <p class="error" role="alert">
      {what}
      {error.code ? <span class="code"> ({error.code})</span> : null}
    </p>
  );
}

/** Loading is the placeholder while a request is in flight. */
export function Loading({ what = 'Loading' }) {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

/** WindowPicker chooses one of the fixed time windows. */
export function WindowPicker({ value, onChange, id = 'window' }) {
  return (
    <div class="field inline">
      <label for={id}>Window</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {WINDOWS.map((w) => (
          <option value={w.id} key={w.id}>
            {w.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * BarTable is a two-column table of a {key: count} map, largest first,
 * with a bar drawn in SVG (attributes, no inline style).
 */
export function BarTable({ caption, map, keyLabel, empty = 'None in this window.' }) {
  const rows = sortedEntries(map);
  const max = rows.length ? rows[0][1] : 0;
  return (
    <table class="bars">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{keyLabel}</th>
          <th scope="col" class="n">
            Count
          </th>
          <th scope="col" class="bar-col">
            <span class="sr-only">Share</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colspan={3} class="muted">
              {empty}
            </td>
          </tr>
        ) : (
          rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">
                <code>{k}</code>
              </th>
              <td class="n">{num(v)}</td>
              <td class="bar-col" aria-hidden="true">
                <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false">
                  <rect x="0" y="0" height="10" width={max ? Math.max(1, (100 * v) / max) : 0} />
                </svg>
              </td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/** Stat is one labelled total. */
export function Stat({ label, value, tone }) {
  return (
    <div class={'stat' + (tone ? ' ' + tone : '')}>
      <dt>{label}</dt>
      <dd>{num(value)}</dd>
    </div>
  );
}
