/**
 * Inline SVG charts: static markup, so the report needs no script, no network and prints as it shows.
 * Every bar carries its number as text, and every chart a <title>, so nothing depends on colour alone.
 */
import { html, type SafeHtml } from './html-template';

export interface BarSegment {
  readonly label: string;
  readonly value: number;
  /** A CSS class from the report's stylesheet (html.ts), e.g. 'fill-flagged'. */
  readonly className: string;
}

export interface StackedBar {
  readonly label: string;
  readonly segments: readonly BarSegment[];
}

const WIDTH = 420;
const LABEL_WIDTH = 150;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 16;

/** Horizontal bars, one per row, each stacked from its segments; the total is written at its end. */
export function stackedBarChart(
  title: string,
  rows: readonly StackedBar[],
  legend: readonly BarSegment[],
): SafeHtml {
  const max = Math.max(1, ...rows.map((r) => total(r.segments)));
  const plot = WIDTH - LABEL_WIDTH - 40;
  const height = rows.length * ROW_HEIGHT + 30;
  const bars = rows.map((row, i) => {
    const y = i * ROW_HEIGHT;
    let x = LABEL_WIDTH;
    const segments = row.segments
      .filter((s) => s.value > 0)
      .map((s) => {
        const w = (s.value / max) * plot;
        const rect = html`<rect
          class="${s.className}"
          x="${x.toFixed(1)}"
          y="${y + 4}"
          width="${w.toFixed(1)}"
          height="${BAR_HEIGHT}"
          ><title>${row.label}: ${s.value} ${s.label}</title></rect
        >`;
        x += w;
        return rect;
      });
    return html`<g class="bar-row">
      <text class="chart-label" x="${LABEL_WIDTH - 8}" y="${y + 16}" text-anchor="end"
        >${truncate(row.label, 20)}</text
      >
      ${segments}
      <text class="chart-value" x="${(x + 6).toFixed(1)}" y="${y + 16}">${total(row.segments)}</text>
    </g>`;
  });
  return svgFrame(title, WIDTH, height, html`${bars} ${legendRow(legend, rows.length * ROW_HEIGHT + 12)}`);
}

/** Vertical bars for a distribution (e.g. idle days in buckets), each labelled below and counted above. */
export function columnChart(title: string, columns: readonly BarSegment[]): SafeHtml {
  const height = 170;
  const plotTop = 20;
  const plotHeight = 110;
  const step = 72;
  const max = Math.max(1, ...columns.map((c) => c.value));
  const bars = columns.map((c, i) => {
    const h = (c.value / max) * plotHeight;
    const x = 10 + i * step;
    const y = plotTop + plotHeight - h;
    return html`<g>
      <rect
        class="${c.className}"
        x="${(x + 8).toFixed(1)}"
        y="${y.toFixed(1)}"
        width="${(step - 16).toFixed(1)}"
        height="${h.toFixed(1)}"
        ><title>${c.label}: ${c.value}</title></rect
      >
      <text
        class="chart-value"
        x="${(x + step / 2).toFixed(1)}"
        y="${(y - 4).toFixed(1)}"
        text-anchor="middle"
        >${c.value}</text
      >
      <text
        class="chart-label"
        x="${(x + step / 2).toFixed(1)}"
        y="${plotTop + plotHeight + 16}"
        text-anchor="middle"
        >${c.label}</text
      >
    </g>`;
  });
  const width = Math.round(20 + columns.length * step);
  return svgFrame(
    title,
    width,
    height,
    html`<line
        class="axis"
        x1="10"
        y1="${plotTop + plotHeight}"
        x2="${width - 10}"
        y2="${plotTop + plotHeight}"
      />
      ${bars}`,
  );
}

/** An accessible SVG chart: its title read out by screen readers, drawn at its natural size. */
function svgFrame(title: string, width: number, height: number, content: SafeHtml): SafeHtml {
  return html`<svg
    class="chart"
    role="img"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${title}</title>
    ${content}
  </svg>`;
}

function legendRow(items: readonly BarSegment[], y: number): SafeHtml {
  let x = LABEL_WIDTH;
  return html`<g class="legend"
    >${items.map((item) => {
      const entry = html`<rect class="${item.className}" x="${x}" y="${y}" width="10" height="10" /><text
          class="chart-label"
          x="${x + 14}"
          y="${y + 9}"
          >${item.label}</text
        >`;
      x += 24 + item.label.length * 8;
      return entry;
    })}</g
  >`;
}

const total = (segments: readonly BarSegment[]) => segments.reduce((n, s) => n + s.value, 0);

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
