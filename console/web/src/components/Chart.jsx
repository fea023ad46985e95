// A time-series chart drawn with uPlot on a canvas, with the same numbers
// in a table for screen readers and anyone who wants them exact.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { num, utc } from '../format.js';

// Colours with at least 3:1 contrast against the white plot background.
const COLOURS = ['#1d4ed8', '#b91c1c', '#a16207', '#7e22ce', '#047857'];

/**
 * A series: label, values, and optionally a colour (else the next of COLOURS).
 */
// timeTicks labels the time axis in UTC, 24-hour: "HH:MM", with the date
// ("MM-DD HH:MM") on the first tick and at midnight, and dates alone when
// the ticks are days apart.
function timeTicks(u, splits) {
  const days = splits.length > 1 && splits[1] - splits[0] >= 86400;
  return splits.map((v, i) => {
    const iso = new Date(v * 1000).toISOString();
    const md = iso.slice(5, 10);
    const hm = iso.slice(11, 16);
    if (days) return md;
    return i === 0 || hm === '00:00' ? `${md} ${hm}` : hm;
  });
}

/**
 * TimeChart draws series ({label, values}) over times (Unix seconds).
 */
export function TimeChart({ title, times, series, height = 260 }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const opts = {
      width: Math.max(320, el.clientWidth),
      height,
      // Times in UTC, as the rest of the console shows them.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [
        { stroke: '#374151', grid: { stroke: '#e5e7eb' }, values: timeTicks, space: 70 },
        { stroke: '#374151', grid: { stroke: '#e5e7eb' } },
      ],
      series: [
        { label: 'Time (UTC)', value: (u, v) => (v == null ? '—' : utc(v)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour || COLOURS[i % COLOURS.length],
          width: 2,
          points: { show: times.length < 40 },
          value: (u, v) => (v == null ? '—' : num(v)),
        })),
      ],
      legend: { live: true },
    };
    const plot = new uPlot(opts, [times, ...series.map((s) => s.values)], el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(320, el.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [times, series, height]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`${title}: a line chart; the same numbers are in the table below`} />
      <details>
        <summary>Show as a table</summary>
        <div class="scroll">
          <table>
            <caption class="sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                {series.map((s) => (
                  <th scope="col" class="n" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((t, i) => (
                <tr key={t}>
                  <th scope="row">{utc(t)}</th>
                  {series.map((s) => (
                    <td class="n" key={s.label}>
                      {num(s.values[i])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
