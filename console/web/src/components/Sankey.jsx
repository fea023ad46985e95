// A Sankey diagram of data flows (source → finding category → model →
// zone), laid out with d3-sankey and drawn as SVG by Preact. Colours are
// SVG attributes, never inline styles.
import { useMemo } from 'preact/hooks';
import { sankey, sankeyLinkHorizontal, sankeyJustify } from 'd3-sankey';
import { num } from '../format.js';

const PALETTE = ['#1d4ed8', '#b91c1c', '#a16207', '#7e22ce', '#047857', '#be185d', '#0e7490', '#4d7c0f'];
const GREY = '#6b7280';
const W = 1000;

/** flowGraph turns flow links into Sankey nodes and links for the chosen source key. */
export function flowGraph(links, sourceKey) {
  const nodes = new Map();
  const edges = new Map();
  const node = (stage, name) => {
    const id = stage + ':' + name;
    if (!nodes.has(id)) nodes.set(id, { id, stage, name });
    return id;
  };
  const edge = (a, b, n, colourKey) => {
    const k = a + '\u0000' + b;
    const e = edges.get(k) || { source: a, target: b, value: 0, colourKey };
    e.value += n;
    edges.set(k, e);
  };
  for (const l of links) {
    if (!(l.count > 0)) continue;
    const src = sourceKey === 'tenant' ? l.tenant || '(no tenant)' : (l.tenant ? l.tenant + ' / ' : '') + (l.principal || '(none)');
    const cat = l.category || 'no findings';
    const s = node('s', src);
    const c = node('c', cat);
    const m = node('m', l.model || '(none)');
    const z = node('z', l.zone || '(none)');
    edge(s, c, l.count, cat);
    edge(c, m, l.count, cat);
    edge(m, z, l.count, null);
  }
  return { nodes: [...nodes.values()], links: [...edges.values()] };
}

/** Sankey draws a flow graph; label says in words what it shows. */
export function Sankey({ graph, label }) {
  const layout = useMemo(() => {
    if (!graph.links.length) return null;
    const perStage = {};
    for (const n of graph.nodes) perStage[n.stage] = (perStage[n.stage] || 0) + 1;
    const H = Math.max(280, Math.max(...Object.values(perStage)) * 34);
    const cats = [...new Set(graph.nodes.filter((n) => n.stage === 'c').map((n) => n.name))].sort();
    const colour = (c) => (c === null || c === 'no findings' ? GREY : PALETTE[cats.indexOf(c) % PALETTE.length]);
    const gen = sankey()
      .nodeId((d) => d.id)
      .nodeAlign(sankeyJustify)
      .nodeWidth(14)
      .nodePadding(14)
      .extent([
        [210, 8],
        [W - 130, H - 8],
      ]);
    const g = gen({ nodes: graph.nodes.map((n) => ({ ...n })), links: graph.links.map((l) => ({ ...l })) });
    return { ...g, H, colour, path: sankeyLinkHorizontal() };
  }, [graph]);
  if (!layout) return <p class="muted">No flows in this window.</p>;
  const { nodes, links, H, colour, path } = layout;
  return (
    <svg class="sankey" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <g fill="none" stroke-opacity="0.35">
        {links.map((l, i) => (
          <path key={i} d={path(l)} stroke={colour(l.colourKey)} stroke-width={Math.max(1, l.width)}>
            <title>{`${l.source.name} → ${l.target.name}: ${num(l.value)}`}</title>
          </path>
        ))}
      </g>
      <g>
        {nodes.map((n) => (
          <g key={n.id}>
            <rect x={n.x0} y={n.y0} width={n.x1 - n.x0} height={Math.max(1, n.y1 - n.y0)} fill={n.stage === 'c' ? colour(n.name) : '#374151'}>
              <title>{`${n.name}: ${num(n.value)}`}</title>
            </rect>
            <text
              x={n.x0 < W / 2 ? n.x0 - 6 : n.x1 + 6}
              y={(n.y0 + n.y1) / 2}
              dy="0.35em"
              text-anchor={n.x0 < W / 2 ? 'end' : 'start'}
              fill="#111827"
              font-size="13"
            >
              {n.name.length > 24 ? n.name.slice(0, 23) + '…' : n.name} ({num(n.value)})
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}
