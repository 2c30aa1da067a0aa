// The one typed client for Reckon's stats API. Request and response types come from
// `schema.ts`, generated from the server's OpenAPI document; every request carries the
// read token, and every failure becomes an `ApiError` with the server's stable `code`,
// so views can tell the user what to do.

import createClient from 'openapi-fetch';
import { readToken } from '../session';
import type { components, paths } from './schema';

type DeliveryStatus = NonNullable<paths['/api/v1/deliveries']['get']['parameters']['query']>['status'];

export type Schemas = components['schemas'];
export type OrgSummary = Schemas['OrgSummary'];
export type OrgListItem = Schemas['OrgListItem'];
export type SeriesAnswer = Schemas['SeriesAnswer'];
export type StatsAnswer = Schemas['StatsAnswer'];
export type TeamsAnswer = Schemas['TeamsAnswer'];
export type TeamMembersAnswer = Schemas['TeamMembersAnswer'];
export type ReposAnswer = Schemas['ReposAnswer'];
export type DeliveriesAnswer = Schemas['DeliveriesAnswer'];
export type DeliveryRecord = Schemas['DeliveryRecord'];
export type EventsAnswer = Schemas['EventsAnswer'];
export type DayCount = Schemas['DayCount'];
export type DriftAnswer = Schemas['DriftAnswer'];
export type DriftCheck = Schemas['Check'];
export type KeyCount = Schemas['ServerEventKeyCount'];
export type PlayerCount = Schemas['ServerEventPlayerCount'];
export type TokenInfo = Schemas['TokenInfo'];

/** A site whose page views are counted (`GET /api/v1/sites`). */
export type SiteItem = Schemas['SiteItem'];
/** `GET /api/v1/sites/{site}/stats`: the series, totals, top lists and drops of a range. */
export type SiteStats = Schemas['SiteStats'];
/** `GET /api/v1/sites/{site}/now`: the last five minutes. */
export type SiteNow = Schemas['SiteNow'];
/** Views, uniques (by the client's flag), visitors (by the daily hash) and entries. */
export type ViewCounts = Schemas['Counts'];
/** One bucket of a site's series. */
export type ViewPoint = Schemas['Point'];
/** A page, referrer or source with its counts, in a site's top lists. */
export type RankedViews = Schemas['Ranked'];
export type DropCount = Schemas['DropCount'];
export type ViewInterval = SiteStats['interval'];

/** What a site's stats take: a range, an interval, the filters and the rows per top list. */
export interface SiteStatsQuery {
  from?: string;
  to?: string;
  interval?: ViewInterval;
  page?: string;
  referrer?: string;
  source?: string;
  /** Only views counted by a script on the page, or from access logs; both when unset. */
  origin?: 'script' | 'log';
  top?: number;
}

/** A server event (`GET /events`): `data` holds the fields the server submitted. */
export type ServerEvent = Omit<Schemas['ServerEvent'], 'data'> & { data: Record<string, unknown> };

/** Events of one UTC day, server and type, in a source's stats. */
export type SourceDayCount = Schemas['ServerEventDayCount'];

/** `GET /api/v1/sources/{source}/stats`. */
export type SourceStats = Schemas['ServerEventStatsAnswer'];

/** One UTC day of a source's events; `nextAfter` is set when the server cut the answer. */
export interface ServerDay {
  events: ServerEvent[];
  nextAfter: string | null;
}

// Coding time, WakaTime's API shapes. These endpoints are not in openapi.json (and so not
// in the generated schema.ts) yet: the types below are written by hand from the contract,
// and the calls go through the same client, untyped by path.

/** A name's share of coding time in a day or range: a project, language, editor, file… */
export interface CodingItem {
  name: string;
  total_seconds: number;
  percent: number;
  digital: string;
  text: string;
  hours: number;
  minutes: number;
}

/** All coding time of a day. */
export interface GrandTotal {
  total_seconds: number;
  text: string;
  digital: string;
  decimal: string;
  hours: number;
  minutes: number;
}

/** Which day a summary covers, in the user's time zone. */
export interface SummaryRange {
  date: string;
  start: string;
  end: string;
  text: string;
  timezone: string;
}

/** One day of `GET /api/v1/users/{user}/summaries`. */
export interface SummaryDay {
  grand_total: GrandTotal;
  projects: CodingItem[];
  languages: CodingItem[];
  editors: CodingItem[];
  operating_systems: CodingItem[];
  machines: CodingItem[];
  categories: CodingItem[];
  branches: CodingItem[];
  /** Files; only with a `project` filter. */
  entities?: CodingItem[];
  range: SummaryRange;
}

/** A total over the range, as WakaTime counts it. */
export interface RangeTotal {
  seconds: number;
  text: string;
  digital?: string;
  decimal?: string;
}

/** `GET /api/v1/users/{user}/summaries`. */
export interface SummariesAnswer {
  data: SummaryDay[];
  cumulative_total: RangeTotal;
  daily_average: RangeTotal;
  start: string;
  end: string;
}

/** `GET /api/v1/users/{user}/statusbar/today`. */
export interface StatusBarAnswer {
  data: {
    grand_total: GrandTotal;
    categories: CodingItem[];
    editors: CodingItem[];
    languages: CodingItem[];
    machines: CodingItem[];
    operating_systems: CodingItem[];
    projects: CodingItem[];
    dependencies: CodingItem[];
    range: Partial<SummaryRange>;
  };
}

/** `GET /api/v1/users/{user}/stats/all_time`: `start` is the first coding day, if any. */
export interface AllTimeAnswer {
  data: { start?: string | null; end?: string | null; total_seconds?: number; text?: string };
}

/** A user who sends heartbeats, in `GET /api/v1/heartbeats/users`. */
export interface HeartbeatUser {
  name: string;
  timezone: string;
  last_heartbeat_at: string | null;
}

export interface HeartbeatUsersAnswer {
  users: HeartbeatUser[];
}

/** What the summaries take: a preset `range`, or `start`/`end` days, and filters. */
export interface SummariesQuery {
  range?: string;
  start?: string;
  end?: string;
  project?: string;
  language?: string;
  editor?: string;
  operating_system?: string;
  machine?: string;
  category?: string;
  branch?: string;
}

/** A failed API call: the server's `code` and `message`, or `unreachable`/`bad_response`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** PR filters shared by the series and stats endpoints; dates are `YYYY-MM-DD`. */
export interface PrFilters {
  from?: string;
  to?: string;
  team?: string;
  repo?: string;
  author?: string;
}

/** The API origin: the `reckon-api-base` meta tag, else the page's own origin. */
export function apiBase(doc: Document = document): string {
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="reckon-api-base"]');
  const value = meta?.content.trim() ?? '';
  return value.startsWith('%') ? '' : value.replace(/\/+$/, '');
}

/** Where the client gets the read token it sends, and whom it tells when the server refuses it. */
export interface Credentials {
  token(): string | null;
  /** A 401 for the token still stored: it is missing, unknown, revoked or expired. */
  onUnauthorized?(error: ApiError): void;
}

function clean<T extends object>(params: T): T {
  return Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as T;
}

export function createApi(
  baseUrl = apiBase(),
  fetchImpl: typeof fetch = (...a) => fetch(...a),
  credentials: Credentials = { token: readToken },
) {
  const client = createClient<paths>({ baseUrl, fetch: fetchImpl });
  client.use({
    onRequest({ request }) {
      const token = credentials.token();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });

  function refused(status: number, code: string, message: string, sent: string | null): ApiError {
    const error = new ApiError(status, code, message);
    // A late answer to a token signed out since must not sign out the one in use now.
    if (status === 401 && sent === credentials.token()) credentials.onUnauthorized?.(error);
    return error;
  }

  async function call<T>(
    request: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    let result: { data?: T; error?: unknown; response: Response };
    const sent = credentials.token();
    try {
      result = await request();
    } catch (e) {
      throw new ApiError(
        0,
        'unreachable',
        `Reckon's API at ${baseUrl || window.location.origin} did not answer (${(e as Error).message}). Is \`reckon serve\` running?`,
      );
    }
    const { data, error, response } = result;
    if (response.ok && data !== undefined) return data;
    if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
      const body = error as { code: unknown; message: unknown };
      throw refused(response.status, String(body.code), String(body.message), sent);
    }
    throw refused(
      response.status,
      'bad_response',
      `The API answered ${response.status} ${response.statusText || ''} without a Reckon error body; check that the API base URL points at Reckon.`.replace('  ', ' '),
      sent,
    );
  }

  /** The client for paths not in the generated schema yet: same base, token and errors. */
  const untyped = client as unknown as {
    GET(
      path: string,
      init: { params: { path?: Record<string, string>; query?: object } },
    ): Promise<{ data?: unknown; error?: unknown; response: Response }>;
  };
  const get = <T>(path: string, params: { path?: Record<string, string>; query?: object } = {}) =>
    call(() => untyped.GET(path, { params })) as Promise<T>;

  /** Opens an event stream with the read token; resolves to the open response. */
  const openStream = async (path: string, signal: AbortSignal): Promise<Response> => {
    const sent = credentials.token();
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, { headers, signal, cache: 'no-store' });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new ApiError(0, 'unreachable', `Reckon's live stream did not answer (${(e as Error).message}).`);
    }
    if (response.ok && response.body) return response;
    const body = (await response.json().catch(() => undefined)) as { code?: unknown; message?: unknown } | undefined;
    throw refused(response.status, String(body?.code ?? 'bad_response'), String(body?.message ?? `The live stream answered ${response.status}.`), sent);
  };

  return {
    /** Who the read token is: checks a token at sign-in and names the reader in the nav. */
    token: () => call(() => client.GET('/api/v1/token')),
    orgs: () => call(() => client.GET('/api/v1/github/orgs')),
    summary: (org: string) =>
      call(() => client.GET('/api/v1/github/orgs/{org}/summary', { params: { path: { org } } })),
    repos: (org: string) =>
      call(() => client.GET('/api/v1/github/orgs/{org}/repos', { params: { path: { org } } })),
    series: (org: string, filters: PrFilters, interval: 'day' | 'week' | 'month' = 'week') =>
      call(() =>
        client.GET('/api/v1/github/orgs/{org}/pulls/series', {
          params: { path: { org }, query: clean({ ...filters, interval }) },
        }),
      ),
    prStats: (org: string, filters: PrFilters, top = 10) =>
      call(() =>
        client.GET('/api/v1/github/orgs/{org}/pulls/stats', {
          params: { path: { org }, query: clean({ ...filters, top }) },
        }),
      ),
    teams: (org: string, range: { from?: string; to?: string }) =>
      call(() =>
        client.GET('/api/v1/github/orgs/{org}/teams', {
          params: { path: { org }, query: clean(range) },
        }),
      ),
    teamMembers: (org: string, team: string) =>
      call(() =>
        client.GET('/api/v1/github/orgs/{org}/teams/{team}/members', {
          params: { path: { org, team } },
        }),
      ),
    deliveries: (query: { source?: string; status?: string; cursor?: string; limit?: number }) =>
      call(() =>
        client.GET('/api/v1/deliveries', {
          // The status comes from the URL; the server answers 400 to one it does not know.
          params: { query: clean({ ...query, status: query.status as DeliveryStatus | undefined }) },
        }),
      ),
    events: (query: { source: string; day: string; cursor?: string; limit?: number }) =>
      call(() => client.GET('/api/v1/events', { params: { query: clean(query) } })),
    drift: (org: string) =>
      call(() => client.GET('/api/v1/github/orgs/{org}/drift', { params: { path: { org } } })),
    eventDays: (query: { source?: string; from?: string; to?: string }) =>
      call(() => client.GET('/api/v1/events/days', { params: { query: clean(query) } })),
    sourceStats: async (source: string, range: { from?: string; to?: string }, top = 10): Promise<SourceStats> => {
      const answer: unknown = await call(() =>
        client.GET('/api/v1/sources/{source}/stats', {
          params: { path: { source }, query: clean({ ...range, top }) },
        }),
      );
      return answer as SourceStats;
    },
    /** `GET /events?ts_day=`: outside `/api/v1`, at the root, as DCSS servers expect it. */
    serverDay: async (source: string, tsDay: number): Promise<ServerDay> => {
      let nextAfter: string | null = null;
      const events = await call(async () => {
        const result = await client.GET('/events', { params: { query: { ts_day: tsDay, source } } });
        nextAfter = result.response.headers.get('x-reckon-next-after');
        return result;
      });
      return { events: events as ServerEvent[], nextAfter };
    },
    /** The users who send heartbeats, as far as the read token may see them. */
    heartbeatUsers: () => get<HeartbeatUsersAnswer>('/api/v1/heartbeats/users'),
    summaries: (user: string, query: SummariesQuery) =>
      get<SummariesAnswer>('/api/v1/users/{user}/summaries', { path: { user }, query: clean(query) }),
    statusBarToday: (user: string) => get<StatusBarAnswer>('/api/v1/users/{user}/statusbar/today', { path: { user } }),
    allTimeStats: (user: string) => get<AllTimeAnswer>('/api/v1/users/{user}/stats/all_time', { path: { user } }),
    /** The sites whose page views the read token may see. */
    sites: () => call(() => client.GET('/api/v1/sites')),
    siteStats: (site: string, query: SiteStatsQuery) =>
      call(() => client.GET('/api/v1/sites/{site}/stats', { params: { path: { site }, query: clean(query) } })),
    siteNow: (site: string) => call(() => client.GET('/api/v1/sites/{site}/now', { params: { path: { site } } })),
    /**
     * Opens the site's event stream (`text/event-stream`) with the read token, which an
     * `EventSource` cannot send; resolves to the open response, whose body the caller reads.
     */
    siteLive: (site: string, signal: AbortSignal): Promise<Response> =>
      openStream(`/api/v1/sites/${encodeURIComponent(site)}/live`, signal),
    /** Opens the delivery log's event stream (admin): an event `deliveries` per change. */
    deliveriesLive: (signal: AbortSignal): Promise<Response> => openStream('/api/v1/deliveries/live', signal),
  };
}

export type Api = ReturnType<typeof createApi>;
