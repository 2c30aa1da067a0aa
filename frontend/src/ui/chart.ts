// Bar charts of time buckets, drawn by uPlot (small, fast, canvas). A chart always comes
// with a text caption and a data table, so its numbers are readable without the canvas.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BarSeries {
  label: string;
  color: string;
  values: number[];
}

export interface BarChartOptions {
  /** Bucket start dates, `YYYY-MM-DD` (UTC), or RFC 3339 instants for hours. */
  buckets: string[];
  series: BarSeries[];
  /** Bucket width in days: 1/24 (hours), 1, 7 or 30. */
  stepDays: number;
  /** One bar per bucket with the series stacked on each other, the first at the bottom. */
  stacked?: boolean;
  height?: number;
  /** Called with the bucket index when a bar is clicked. */
  onPick?: (index: number) => void;
}

const DAY = 86_400;

export function bucketSeconds(bucket: string): number {
  return Date.parse(bucket.includes('T') ? bucket : `${bucket}T00:00:00Z`) / 1000;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `Jan 5` for days and weeks (with the year on January buckets), `Jan 2026` for months,
 * `14:00` for hours (`Jan 5 00:00` at midnight).
 */
export function bucketLabel(seconds: number, stepDays: number): string {
  const d = new Date(seconds * 1000);
  const month = MONTHS[d.getUTCMonth()]!;
  if (stepDays < 1) {
    const time = `${String(d.getUTCHours()).padStart(2, '0')}:00`;
    return d.getUTCHours() === 0 ? `${month} ${d.getUTCDate()} ${time}` : time;
  }
  if (stepDays >= 28) return `${month} ${d.getUTCFullYear()}`;
  const label = `${month} ${d.getUTCDate()}`;
  return d.getUTCMonth() === 0 && d.getUTCDate() <= stepDays ? `${label}, ${d.getUTCFullYear()}` : label;
}

/**
 * The series as stacked bars draw them: each one's values plus those of every series
 * below it, tallest (the last) first, so every later bar paints the lower part over it.
 */
export function stackSeries(series: BarSeries[]): BarSeries[] {
  const sums: number[] = [];
  const stacked = series.map((s) => ({
    ...s,
    values: s.values.map((v, i) => (sums[i] = (sums[i] ?? 0) + v)),
  }));
  return stacked.reverse();
}

/** Draws into `el` and follows its width; returns a function that removes the chart. */
export function barChart(el: HTMLElement, options: BarChartOptions): () => void {
  const xs = options.buckets.map(bucketSeconds);
  const step = options.stepDays * DAY;
  const drawn = options.stacked ? stackSeries(options.series) : options.series;
  // Stacked bars share one column per bucket, like a single series.
  const n = options.stacked ? 1 : drawn.length;
  const bars = uPlot.paths.bars!;
  const plot = new uPlot(
    {
      width: Math.max(el.clientWidth, 320),
      height: options.height ?? 260,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => [min - step / 2, max + step / 2],
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
      },
      axes: [
        {
          stroke: '#57606a',
          grid: { show: false },
          // One label per bucket start, thinned so labels never overlap.
          splits: (u) => {
            const every = Math.max(1, Math.ceil((xs.length * 64) / Math.max(u.bbox.width / devicePixelRatio, 1)));
            return xs.filter((_, i) => i % every === 0);
          },
          values: (_u, splits) => splits.map((s) => bucketLabel(s, options.stepDays)),
        },
        { stroke: '#57606a', grid: { stroke: '#eaeef2' }, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 5000, 10_000] },
      ],
      series: [
        { label: options.stepDays < 1 ? 'Hour' : options.stepDays === 1 ? 'Day' : options.stepDays === 7 ? 'Week of' : 'Month' },
        ...drawn.map((s, i) => ({
          label: s.label,
          stroke: s.color,
          fill: s.color,
          width: 0,
          paths: bars({ size: [n > 1 ? 0.4 : 0.7, 48], align: (n === 1 ? 0 : i === 0 ? -1 : 1) as -1 | 0 | 1 }),
          points: { show: false },
        })),
      ],
      hooks: options.onPick
        ? {
            ready: [
              (u: uPlot) => {
                u.over.style.cursor = 'pointer';
                u.over.addEventListener('click', () => {
                  const idx = u.cursor.idx;
                  if (idx !== null && idx !== undefined) options.onPick?.(idx);
                });
              },
            ],
          }
        : {},
    },
    [xs, ...drawn.map((s) => s.values)],
    el,
  );
  const resize = new ResizeObserver(() => {
    const width = Math.max(el.clientWidth, 320);
    if (width !== plot.width) plot.setSize({ width, height: plot.height });
  });
  resize.observe(el);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}
