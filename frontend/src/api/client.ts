// The one typed client for Reckon's stats API. Request and response types come from
// `schema.ts`, generated from the server's OpenAPI document; every failure becomes an
// `ApiError` with the server's stable `code`, so views can tell the user what to do.

import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

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

function clean<T extends object>(params: T): T {
  return Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as T;
}

export function createApi(baseUrl = apiBase(), fetchImpl: typeof fetch = (...a) => fetch(...a)) {
  const client = createClient<paths>({ baseUrl, fetch: fetchImpl });

  async function call<T>(
    request: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    let result: { data?: T; error?: unknown; response: Response };
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
      throw new ApiError(response.status, String(body.code), String(body.message));
    }
    throw new ApiError(
      response.status,
      'bad_response',
      `The API answered ${response.status} ${response.statusText || ''} without a Reckon error body; check that the API base URL points at Reckon.`.replace('  ', ' '),
    );
  }

  return {
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
      call(() => client.GET('/api/v1/deliveries', { params: { query: clean(query) } })),
    events: (query: { source: string; day: string; cursor?: string; limit?: number }) =>
      call(() => client.GET('/api/v1/events', { params: { query: clean(query) } })),
    drift: (org: string) =>
      call(() => client.GET('/api/v1/github/orgs/{org}/drift', { params: { path: { org } } })),
    eventDays: (query: { source?: string; from?: string; to?: string }) =>
      call(() => client.GET('/api/v1/events/days', { params: { query: clean(query) } })),
  };
}

export type Api = ReturnType<typeof createApi>;
