// Coding time from WakaTime-shaped summaries: which days a range preset asks for, the
// per-day lists added up over the range, the top names with the rest as "Other", and one
// stack per day for the chart. Pure, so they are unit-tested.

import type { CodingItem, SummariesQuery, SummaryDay } from './api/client';
import { isoDay, type Params } from './route';

export const CODING_RANGES: { id: string; label: string; months?: number }[] = [
  { id: 'last_7_days', label: '7 days' },
  { id: 'last_30_days', label: '30 days' },
  { id: 'this_week', label: 'This week' },
  { id: 'this_month', label: 'This month' },
  { id: 'last_6_months', label: '6 months', months: 6 },
  { id: 'last_year', label: 'Year', months: 12 },
  { id: 'all_time', label: 'All time' },
];
export const DEFAULT_CODING_RANGE = 'last_7_days';

/** The lists a summary day holds, by the name of its key. */
export type ItemList = 'projects' | 'languages' | 'editors' | 'operating_systems' | 'machines' | 'categories' | 'branches' | 'entities';

/** The range preset the params name; an unknown one (say `90d` from another page) is the default. */
export function codingRange(params: Params): string {
  return CODING_RANGES.some((r) => r.id === params.range) ? params.range! : DEFAULT_CODING_RANGE;
}

/** What the chart stacks by: `language` when asked, else `project`. */
export function codingBy(params: Params): 'project' | 'language' {
  return params.by === 'language' ? 'language' : 'project';
}

/** Today's date (`YYYY-MM-DD`) in a time zone, the browser's own when none or an unknown one. */
export function todayIn(timezone: string | undefined, now: Date = new Date()): string {
  if (timezone) {
    try {
      // en-CA writes dates as YYYY-MM-DD.
      return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
    } catch {
      // An unknown zone: fall through to the browser's.
    }
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * The day an instant falls on in a time zone: all time's `start` is the first day's local
 * midnight as RFC 3339, which in UTC is often the evening before. A bare day stays as it is.
 */
export function dayIn(instant: string | null | undefined, timezone: string | undefined): string | undefined {
  if (!instant) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(instant)) return instant;
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? undefined : todayIn(timezone, date);
}

/**
 * What to ask the summaries for: the presets the server knows as `range=`; the longer ones
 * as `start`/`end` days ending `today`. All time starts at `allTimeStart` (the user's first
 * coding day, `YYYY-MM-DD` or RFC 3339), else today.
 */
export function summariesPeriod(range: string, today: string, allTimeStart?: string | null): Pick<SummariesQuery, 'range' | 'start' | 'end'> {
  const preset = CODING_RANGES.find((r) => r.id === range) ?? CODING_RANGES[0]!;
  if (preset.id === 'all_time') {
    const first = allTimeStart?.slice(0, 10);
    return { start: first && /^\d{4}-\d{2}-\d{2}$/.test(first) && first < today ? first : today, end: today };
  }
  if (!preset.months) return { range: preset.id };
  const start = new Date(`${today}T00:00:00Z`);
  start.setUTCMonth(start.getUTCMonth() - preset.months);
  start.setUTCDate(start.getUTCDate() + 1);
  return { start: isoDay(start), end: today };
}

/** A name's time over the whole range and its share of the list's total, in percent. */
export interface Share {
  name: string;
  total_seconds: number;
  percent: number;
}

/** One list of every day added up by name, largest first (ties by name), shares recomputed. */
export function mergeItems(days: SummaryDay[], list: ItemList): Share[] {
  const sums = new Map<string, number>();
  for (const day of days) {
    for (const item of (day[list] ?? []) as CodingItem[]) {
      sums.set(item.name, (sums.get(item.name) ?? 0) + (item.total_seconds || 0));
    }
  }
  const total = [...sums.values()].reduce((a, b) => a + b, 0);
  return [...sums]
    .map(([name, seconds]) => ({ name, total_seconds: seconds, percent: total > 0 ? (seconds * 100) / total : 0 }))
    .filter((s) => s.total_seconds > 0)
    .sort((a, b) => b.total_seconds - a.total_seconds || a.name.localeCompare(b.name));
}

export const OTHER = 'Other';

/** The first `n` shares, and the rest added up as one `Other` row (when there are more than `n`). */
export function topWithOther(shares: Share[], n: number): { rows: Share[]; other?: Share } {
  if (shares.length <= n) return { rows: shares };
  const rest = shares.slice(n);
  return {
    rows: shares.slice(0, n),
    other: {
      name: OTHER,
      total_seconds: rest.reduce((a, s) => a + s.total_seconds, 0),
      percent: rest.reduce((a, s) => a + s.percent, 0),
    },
  };
}

export const STACK_COLORS = ['#1f6feb', '#8250df', '#1a7f37', '#bf8700', '#cf222e', '#0a7ea4', '#bc4c00', '#6639ba'];
export const OTHER_COLOR = '#8c959f';

export interface DayStack {
  name: string;
  color: string;
  /** Seconds on each day of `days`. */
  values: number[];
  total_seconds: number;
}

/**
 * One bar per summary day, stacked by the `top` largest names of `list` over the range, the
 * largest at the bottom, and the rest as one `Other` stack on top.
 */
export function dailyStacks(days: SummaryDay[], list: ItemList, top: number): { days: string[]; stacks: DayStack[] } {
  const { rows, other } = topWithOther(mergeItems(days, list), top);
  const stacks: DayStack[] = rows.map((r, i) => ({
    name: r.name,
    color: STACK_COLORS[i % STACK_COLORS.length]!,
    values: days.map(() => 0),
    total_seconds: r.total_seconds,
  }));
  const rest: DayStack | undefined = other ? { name: OTHER, color: OTHER_COLOR, values: days.map(() => 0), total_seconds: other.total_seconds } : undefined;
  const byName = new Map(stacks.map((s) => [s.name, s]));
  days.forEach((day, i) => {
    for (const item of (day[list] ?? []) as CodingItem[]) {
      const stack = byName.get(item.name) ?? rest;
      if (stack && item.total_seconds > 0) stack.values[i]! += item.total_seconds;
    }
  });
  return { days: days.map((d) => d.range?.date ?? ''), stacks: rest ? [...stacks, rest] : stacks };
}

/** Seconds as hours for the chart's axis, to the hundredth. */
export function hours(seconds: number): number {
  return Math.round((seconds / 3600) * 100) / 100;
}
