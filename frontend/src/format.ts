// How numbers reach people: counts with separators, durations in the two largest units,
// byte sizes, and timestamps in the reader's locale. Pure, so they are unit-tested.

const numberFormat = new Intl.NumberFormat('en-US');

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : numberFormat.format(n);
}

/** `93784` → `1 d 2 h`; `null` (nothing merged) → `–`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const total = Math.max(0, Math.round(seconds));
  const first = units.findIndex(([, size]) => total >= size);
  if (first < 0) return '0 s';
  const [bigUnit, bigSize] = units[first]!;
  const big = Math.floor(total / bigSize);
  const next = units[first + 1];
  const small = next ? Math.floor((total - big * bigSize) / next[1]) : 0;
  return next && small > 0 ? `${big} ${bigUnit} ${small} ${next[0]}` : `${big} ${bigUnit}`;
}

/** `1536` → `1.5 KiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 'B';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** An RFC 3339 instant as local date and time, e.g. `2026-03-02 14:05:09`. */
export function dateTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How long ago, coarsely: `just now`, `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function ago(rfc3339: string, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - new Date(rfc3339).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 2) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A Unix millisecond as the UTC time of day, `14:05:09`; the day is shown beside it. */
export function utcTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().slice(11, 19);
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * Coding time as WakaTime writes it: `3 hrs 12 mins`, `1 hr 1 min`, `2 hrs`, `5 mins`;
 * under a minute in seconds, `0 secs`, `1 sec`, `45 secs`. Minutes and seconds round down.
 */
export function codingTime(seconds: number | null | undefined): string {
  const total = seconds === null || seconds === undefined || !Number.isFinite(seconds) ? 0 : Math.max(0, Math.floor(seconds));
  if (total < 60) return plural(total, 'sec');
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const parts = [hours > 0 ? plural(hours, 'hr') : '', minutes > 0 ? plural(minutes, 'min') : ''];
  return parts.filter(Boolean).join(' ');
}

/** A share as a percentage with one decimal, WakaTime-style: `42.1%`; tiny ones `<0.1%`. */
export function percent(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return '0%';
  if (value < 0.1) return '<0.1%';
  return `${value.toFixed(1).replace(/\.0$/, '')}%`;
}
