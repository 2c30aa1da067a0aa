// Page views of a site: which unique count the chart shows beside views, the series as
// chart columns, the filters in the URL, the drop reasons, and following the site's live
// event stream (re-fetching, debounced, on each `views` event). Pure or with every effect
// passed in, so they are unit-tested.

import type { DropCount, SiteStatsQuery, ViewInterval, ViewPoint } from './api/client';
import { DEFAULT_RANGE, isoDay, resolveRange, SITE_FILTERS, type Params, type SiteFilter } from './route';
import { readEventStream, type SseEvent } from './sse';

/** The two ways of counting unique views; neither is "right", so both are offered. */
export type UniqueBy = 'uniques' | 'visitors';

export const UNIQUE_LABELS: Record<UniqueBy, string> = {
  uniques: 'unique (client flag)',
  visitors: 'visitors (daily hash)',
};

/** What each unique count means, for a tooltip or a caption. */
export const UNIQUE_NOTES: Record<UniqueBy, string> = {
  uniques: "Views the visitor's own browser flagged as its first of the page (beacons' u=1, live views not refreshed; Plausible's tracker sends no such flag).",
  visitors: "Distinct visitors by the server's daily salted hash, per UTC day, added up over the days.",
};

export const INTERVALS: { id: ViewInterval; label: string; stepDays: number }[] = [
  { id: 'hour', label: 'Hour', stepDays: 1 / 24 },
  { id: 'day', label: 'Day', stepDays: 1 },
  { id: 'week', label: 'Week', stepDays: 7 },
  { id: 'month', label: 'Month', stepDays: 30 },
];
export const DEFAULT_INTERVAL: ViewInterval = 'day';

/** The unique count the params ask for: `visitors` when asked, else `uniques`. */
export function uniqueBy(params: Params): UniqueBy {
  return params.uniques === 'visitors' ? 'visitors' : 'uniques';
}

/** Where views came from: both (the default), a script on the page, or the access log. */
export type ViewOrigin = 'all' | 'script' | 'log';

export const ORIGIN_LABELS: Record<ViewOrigin, string> = { all: 'All', script: 'Script', log: 'Logs' };

/** What each origin means, for a tooltip. */
export const ORIGIN_NOTES: Record<ViewOrigin, string> = {
  all: 'Views from scripts on the pages and from access logs together.',
  script: 'Views a script on the page counted: beacons, Plausible events, live views.',
  log: 'Views in the web server\'s access logs; more than Script by about the readers who block scripts.',
};

/** The origin the params ask for; anything unknown is both. */
export function viewOrigin(params: Params): ViewOrigin {
  return params.origin === 'script' || params.origin === 'log' ? params.origin : 'all';
}

/** The series interval the params ask for; an unknown one is the default (`day`). */
export function siteInterval(params: Params): ViewInterval {
  return INTERVALS.find((i) => i.id === params.interval)?.id ?? DEFAULT_INTERVAL;
}

/** A bucket's width in days, as the chart takes it. */
export function stepDays(interval: ViewInterval): number {
  return INTERVALS.find((i) => i.id === interval)?.stepDays ?? 1;
}

/** The active page-views filters of the params, in chip order. */
export function siteFilters(params: Params): Partial<Record<SiteFilter, string>> {
  const out: Partial<Record<SiteFilter, string>> = {};
  for (const key of SITE_FILTERS) if (params[key]) out[key] = params[key];
  return out;
}

/** The most buckets the stats endpoint draws a series of. */
export const MAX_BUCKETS = 2000;
/** Where "All time" starts for page views: no site counted views before this. */
export const ALL_TIME_FROM = '2000-01-01';
/** How far back the stats endpoint reads when given only an end. */
const DEFAULT_DAYS = 30;

/** Whether the params ask for all time (the `all` preset, no dates). */
export function isAllTime(params: Params): boolean {
  return !params.from && !params.to && (params.range ?? DEFAULT_RANGE) === 'all';
}

/** The days (`YYYY-MM-DD`, inclusive) the site page reads for these params, on `today` (UTC). */
export function siteRange(params: Params, today: Date = new Date()): { from: string; to: string } {
  const resolved = isAllTime(params) ? { from: ALL_TIME_FROM, to: isoDay(today) } : resolveRange(params, today);
  const to = resolved.to ?? isoDay(today);
  if (resolved.from) return { from: resolved.from, to };
  const start = new Date(`${to}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() - DEFAULT_DAYS);
  return { from: isoDay(start), to };
}

/** About how many buckets of `interval` the days from `from` to `to` (inclusive) hold; never fewer. */
export function bucketCount(from: string, to: string, interval: ViewInterval): number {
  const days = Math.max(1, Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1);
  switch (interval) {
    case 'hour':
      return days * 24;
    case 'day':
      return days;
    case 'week':
      return Math.ceil(days / 7) + 1;
    default:
      return Math.ceil(days / 28) + 1;
  }
}

/** The interval asked for, or the finest coarser one whose series fits in MAX_BUCKETS. */
export function fitInterval(from: string, to: string, asked: ViewInterval): ViewInterval {
  const order = INTERVALS.map((i) => i.id);
  for (const interval of order.slice(order.indexOf(asked))) {
    if (bucketCount(from, to, interval) <= MAX_BUCKETS) return interval;
  }
  return 'month';
}

/** What the site page asks the stats endpoint for these params, on `today` (UTC). */
export function statsQuery(params: Params, top: number, today: Date = new Date()): SiteStatsQuery & { interval: ViewInterval } {
  const range = siteRange(params, today);
  const origin = viewOrigin(params);
  return { ...range, interval: fitInterval(range.from, range.to, siteInterval(params)), ...siteFilters(params), ...(origin === 'all' ? {} : { origin }), top };
}

/** The series from its first bucket with views: all time starts long before a site did. */
export function trimLeading(series: ViewPoint[]): ViewPoint[] {
  const first = series.findIndex((p) => p.views > 0 || p.uniques > 0 || p.visitors > 0);
  return first < 0 ? [] : series.slice(first);
}

export interface ViewColumns {
  /** The bucket starts: `YYYY-MM-DD`, or RFC 3339 for hours. */
  buckets: string[];
  views: number[];
  /** The unique count chosen, per bucket. */
  unique: number[];
  /** The chosen unique count's label. */
  uniqueLabel: string;
}

/** The series as the chart's columns: views, and the chosen unique count beside them. */
export function chartColumns(series: ViewPoint[], by: UniqueBy): ViewColumns {
  return {
    buckets: series.map((p) => p.bucket),
    views: series.map((p) => p.views),
    unique: series.map((p) => p[by]),
    uniqueLabel: UNIQUE_LABELS[by],
  };
}

/** Why hits were filtered out, in the order they are shown. */
export const DROP_REASONS: { reason: string; label: string }[] = [
  { reason: 'bot', label: 'Bots' },
  { reason: 'automated_browser', label: 'Automated browsers' },
  { reason: 'no_user_agent', label: 'No User-Agent' },
];

/** Every known reason with its count (0 when none), then any reason the server added since. */
export function dropRows(dropped: DropCount[]): { reason: string; label: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const d of dropped) counts.set(d.reason, (counts.get(d.reason) ?? 0) + d.count);
  const known = DROP_REASONS.map((r) => ({ ...r, count: counts.get(r.reason) ?? 0 }));
  const extra = [...counts]
    .filter(([reason]) => !DROP_REASONS.some((r) => r.reason === reason))
    .map(([reason, count]) => ({ reason, label: reason, count }));
  return [...known, ...extra];
}

/** Where a live subscription stands, for the indicator. */
export type LiveState = 'connecting' | 'live' | 'offline';

export interface LiveOptions {
  /** Opens the stream; rejects when it cannot. Aborting `signal` ends it. */
  open(signal: AbortSignal): Promise<Response>;
  /** Called once per burst of `event` events, `debounceMs` after the last. */
  onViews(): void;
  /** The event type that means news: `views` (a site's stream) by default. */
  event?: string;
  onState(state: LiveState): void;
  debounceMs?: number;
  /** How long to wait before opening the stream again after it ended or failed. */
  retryMs?: number;
  /** Whether to give up instead of retrying after this error (a refused token, an unknown site). */
  fatal?(error: unknown): boolean;
}

/** Follows a site's live stream until the returned function is called; reconnects after a drop. */
export function followLive(options: LiveOptions): () => void {
  const debounceMs = options.debounceMs ?? 200;
  const retryMs = options.retryMs ?? 3000;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const onEvent = (event: SseEvent) => {
    if (event.event !== (options.event ?? 'views')) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!controller.signal.aborted) options.onViews();
    }, debounceMs);
  };
  const connect = async () => {
    if (controller.signal.aborted) return;
    options.onState('connecting');
    try {
      const response = await options.open(controller.signal);
      if (controller.signal.aborted) return;
      options.onState('live');
      await readEventStream(response.body!, onEvent);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (options.fatal?.(error)) {
        options.onState('offline');
        return;
      }
    }
    if (controller.signal.aborted) return;
    options.onState('offline');
    retry = setTimeout(() => void connect(), retryMs);
  };
  void connect();
  return () => {
    controller.abort();
    clearTimeout(timer);
    clearTimeout(retry);
  };
}
