// The dashboard's whole state lives in the URL hash (`#/orgs/acme/teams?range=90d`), so
// any view can be bookmarked or shared, and the build stays plain files that any bucket
// can serve. These functions parse and format it; they are pure and unit-tested.

export type Page = 'home' | 'overview' | 'teams' | 'team' | 'drift' | 'deliveries' | 'events' | 'source' | 'coding' | 'coding-project' | 'sites' | 'site';

export interface Route {
  page: Page;
  org?: string;
  /** The team slug of the team page. */
  team?: string;
  /** The server-events source of the source page (`#/sources/dcss`); none: pick one. */
  source?: string;
  /** The user of the coding-time pages (`#/coding/ada`); none: pick one. */
  user?: string;
  /** The project of the coding-time project page (`#/coding/ada/projects/reckon`). */
  project?: string;
  /** The site (domain) of the page-views site page (`#/sites/blog.example`); none: the list. */
  site?: string;
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
  /** What the coding-time chart stacks by: `project` (the default) or `language`. */
  by?: string;
  /** Coding-time filters, as WakaTime's summaries take them. */
  language?: string;
  editor?: string;
  operating_system?: string;
  machine?: string;
  category?: string;
  branch?: string;
  /** Page-views filters: a page path and a referring host (`(direct)` for none); `source` is shared. */
  page?: string;
  referrer?: string;
  /** Which unique count the page-views chart shows beside views: `uniques` (the default) or `visitors`. */
  uniques?: string;
  /** The page-views series bucket: `hour`, `day` (the default), `week` or `month`. */
  interval?: string;
  /** Which page views: `script` (beacons, events, live), `log` (access logs), or both (unset). */
  origin?: string;
}

/** The coding-time filters, in the order their chips are shown. */
export const CODING_FILTERS = ['language', 'editor', 'operating_system', 'machine', 'category', 'branch'] as const;
export type CodingFilter = (typeof CODING_FILTERS)[number];

/** The page-views filters, in the order their chips are shown. */
export const SITE_FILTERS = ['page', 'referrer', 'source'] as const;
export type SiteFilter = (typeof SITE_FILTERS)[number];

const PARAM_KEYS: (keyof Params)[] = ['range', 'from', 'to', 'team', 'repo', 'status', 'source', 'day', 'by', ...CODING_FILTERS, 'page', 'referrer', 'uniques', 'interval', 'origin'];

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
  const [first, name, section, team] = segments;
  if (first === 'orgs' && name) {
    const org = name;
    if (section === 'teams' && team) return { page: 'team', org, team, params };
    if (section === 'teams') return { page: 'teams', org, params };
    if (section === 'drift') return { page: 'drift', org, params };
    return { page: 'overview', org, params };
  }
  if (first === 'deliveries') return { page: 'deliveries', params };
  if (first === 'events') return { page: 'events', params };
  if (first === 'sources') return name ? { page: 'source', source: name, params } : { page: 'source', params };
  if (first === 'coding') {
    if (!name) return { page: 'coding', params };
    if (section === 'projects' && team) return { page: 'coding-project', user: name, project: team, params };
    return { page: 'coding', user: name, params };
  }
  if (first === 'sites') return name ? { page: 'site', site: name, params } : { page: 'sites', params };
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
    case 'source':
      path = route.source ? `/sources/${encodeURIComponent(route.source)}` : '/sources';
      break;
    case 'coding':
      path = route.user ? `/coding/${encodeURIComponent(route.user)}` : '/coding';
      break;
    case 'coding-project':
      path = `/coding/${encodeURIComponent(route.user ?? '')}/projects/${encodeURIComponent(route.project ?? '')}`;
      break;
    case 'sites':
      path = '/sites';
      break;
    case 'site':
      path = route.site ? `/sites/${encodeURIComponent(route.site)}` : '/sites';
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

/** Every UTC day from `from` to `to` (`YYYY-MM-DD`, inclusive), at most ten years of them. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 3660; t += 86_400_000) {
    out.push(isoDay(new Date(t)));
  }
  return out;
}

/** The Unix millisecond a `YYYY-MM-DD` UTC day starts at; `undefined` for anything else. */
export function dayStartMs(day: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) || isoDay(new Date(ms)) !== day ? undefined : ms;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
