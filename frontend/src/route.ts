// The dashboard's whole state lives in the URL hash (`#/orgs/acme/teams?range=90d`), so
// any view can be bookmarked or shared, and the build stays plain files that any bucket
// can serve. These functions parse and format it; they are pure and unit-tested.

export type Page = 'home' | 'overview' | 'teams' | 'team' | 'drift' | 'deliveries' | 'events';

export interface Route {
  page: Page;
  org?: string;
  /** The team slug of the team page. */
  team?: string;
  params: Params;
}

export interface Params {
  /** A preset range (`30d`, `90d`, `12m`, `all`); ignored when `from` or `to` is set. */
  range?: string;
  from?: string;
  to?: string;
  /** Team filter (slug) on org pages. */
  team?: string;
  /** Repo filter (name) on org pages. */
  repo?: string;
  /** Outcome filter on the delivery log. */
  status?: string;
  source?: string;
  day?: string;
}

const PARAM_KEYS: (keyof Params)[] = ['range', 'from', 'to', 'team', 'repo', 'status', 'source', 'day'];

export const RANGE_PRESETS: { id: string; label: string; days?: number; months?: number }[] = [
  { id: '30d', label: '30 days', days: 30 },
  { id: '90d', label: '90 days', days: 90 },
  { id: '12m', label: '12 months', months: 12 },
  { id: 'all', label: 'All time' },
];
export const DEFAULT_RANGE = '90d';

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [pathPart = '', query = ''] = raw.split('?', 2);
  const segments = pathPart
    .split('/')
    .filter(Boolean)
    .map((s) => safeDecode(s));
  const search = new URLSearchParams(query);
  const params: Params = {};
  for (const key of PARAM_KEYS) {
    const value = search.get(key);
    if (value) params[key] = value;
  }
  const [first, org, section, team] = segments;
  if (first === 'orgs' && org) {
    if (section === 'teams' && team) return { page: 'team', org, team, params };
    if (section === 'teams') return { page: 'teams', org, params };
    if (section === 'drift') return { page: 'drift', org, params };
    return { page: 'overview', org, params };
  }
  if (first === 'deliveries') return { page: 'deliveries', params };
  if (first === 'events') return { page: 'events', params };
  return { page: 'home', params };
}

export function formatRoute(route: Route): string {
  const org = route.org ? encodeURIComponent(route.org) : '';
  let path: string;
  switch (route.page) {
    case 'overview':
      path = `/orgs/${org}`;
      break;
    case 'teams':
      path = `/orgs/${org}/teams`;
      break;
    case 'team':
      path = `/orgs/${org}/teams/${encodeURIComponent(route.team ?? '')}`;
      break;
    case 'drift':
      path = `/orgs/${org}/drift`;
      break;
    case 'deliveries':
      path = '/deliveries';
      break;
    case 'events':
      path = '/events';
      break;
    default:
      path = '/';
  }
  const search = new URLSearchParams();
  for (const key of PARAM_KEYS) {
    const value = route.params[key];
    if (value) search.set(key, value);
  }
  const query = search.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

/** The same route with some params changed; `undefined` removes one. */
export function withParams(route: Route, changes: Partial<Params>): Route {
  const params: Params = { ...route.params };
  for (const [key, value] of Object.entries(changes) as [keyof Params, string | undefined][]) {
    if (value) params[key] = value;
    else delete params[key];
  }
  return { ...route, params };
}

/** The `from`/`to` (`YYYY-MM-DD`, `to` inclusive) the params stand for, on `today` (UTC). */
export function resolveRange(params: Params, today: Date = new Date()): { from?: string; to?: string } {
  if (params.from || params.to) return { from: params.from, to: params.to };
  const preset = RANGE_PRESETS.find((p) => p.id === (params.range ?? DEFAULT_RANGE));
  if (!preset || (!preset.days && !preset.months)) return {};
  const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const start = new Date(end);
  if (preset.days) start.setUTCDate(start.getUTCDate() - preset.days + 1);
  if (preset.months) {
    start.setUTCMonth(start.getUTCMonth() - preset.months);
    start.setUTCDate(start.getUTCDate() + 1);
  }
  return { from: isoDay(start), to: isoDay(end) };
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
