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
  };
}

export type Api = ReturnType<typeof createApi>;
