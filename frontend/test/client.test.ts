import { afterEach, describe, expect, test, vi } from 'vitest';
import { ApiError, apiBase, createApi } from '../src/api/client';
import { clearToken, saveToken } from '../src/session';
import { advice } from '../src/ui/states';
import { fakeFetch } from './fake-fetch';

describe('api client', () => {
  afterEach(clearToken);

  test('sends only the filters that are set', async () => {
    const { impl, calls } = fakeFetch(200, { org: 'acme', interval: 'week', series: [] });
    const api = createApi('http://reckon.test', impl);
    await api.series('acme', { from: '2026-01-01', team: 'core', repo: '', author: undefined });
    expect(calls).toEqual(['http://reckon.test/api/v1/github/orgs/acme/pulls/series?from=2026-01-01&team=core&interval=week']);
  });

  test('escapes path parameters', async () => {
    const { impl, calls } = fakeFetch(200, { org: 'a b', team: 'c/d', members: [] });
    await createApi('', impl).teamMembers('a b', 'c/d');
    expect(calls[0]).toMatch(/\/api\/v1\/github\/orgs\/a%20b\/teams\/c%2Fd\/members$/);
  });

  test("turns Reckon's error body into an ApiError with its code", async () => {
    const { impl } = fakeFetch(404, { code: 'not_found', message: 'no data for org `x` yet' });
    const error = await createApi('', impl).summary('x').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([404, 'not_found', 'no data for org `x` yet']);
    expect(advice(error).title).toBe('Nothing here yet');
  });

  test('a non-Reckon answer and a network failure are told apart', async () => {
    const { impl } = fakeFetch(502, '<h1>Bad Gateway</h1>', 'text/html');
    const proxy = await createApi('', impl).orgs().catch((e) => e);
    expect([proxy.status, proxy.code]).toEqual([502, 'bad_response']);
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    const unreachable = await createApi('http://down.test', down).orgs().catch((e) => e);
    expect([unreachable.status, unreachable.code]).toEqual([0, 'unreachable']);
    expect(unreachable.message).toContain('http://down.test');
    expect(advice(unreachable).hint).toContain('serve');
  });

  test('server events: stats under /api/v1, one day at the root with its cut marker', async () => {
    const stats = fakeFetch(200, { source: 'dcss', days: [], milestones: [], games: [], top_by_games: [], top_by_wins: [] });
    await createApi('http://reckon.test', stats.impl).sourceStats('game servers', { from: '2026-11-01', to: undefined }, 5);
    expect(stats.calls).toEqual(['http://reckon.test/api/v1/sources/game%20servers/stats?from=2026-11-01&top=5']);
    const event = { id: '1', ts: 1_795_944_742_409, type: 'milestone', src: 'cpo', data: { name: 'Blork' } };
    const day = fakeFetch(200, [event], 'application/json', { 'X-Reckon-Next-After': '10000' });
    const answer = await createApi('http://reckon.test', day.impl).serverDay('dcss', 1_795_910_400_000);
    expect(day.calls).toEqual(['http://reckon.test/events?ts_day=1795910400000&source=dcss']);
    expect(answer).toEqual({ events: [event], nextAfter: '10000' });
    const whole = await createApi('', fakeFetch(200, []).impl).serverDay('dcss', 0);
    expect(whole).toEqual({ events: [], nextAfter: null });
  });

  test('every request carries the read token in its Authorization header, and nowhere else', async () => {
    const { impl, calls, auth } = fakeFetch(200, []);
    const api = createApi('http://reckon.test', impl, { token: () => 'rkt_abc123def456_secret' });
    await api.orgs().catch(() => undefined);
    await api.sourceStats('dcss', {}).catch(() => undefined);
    await api.serverDay('dcss', 0);
    expect(auth).toEqual(Array(3).fill('Bearer rkt_abc123def456_secret'));
    expect(calls.some((url) => url.includes('rkt_'))).toBe(false);
    const none = fakeFetch(200, []);
    await createApi('', none.impl, { token: () => null }).serverDay('dcss', 0);
    expect(none.auth).toEqual([null]);
  });

  test('by default the token comes from the session', async () => {
    saveToken('rkt_stored', false);
    const { impl, auth } = fakeFetch(200, { id: 'stored', name: 'ops', scopes: ['admin'], expires_at: null });
    expect((await createApi('', impl).token()).name).toBe('ops');
    expect(auth).toEqual(['Bearer rkt_stored']);
  });

  test('a 401 for the token in use signs out; other failures and stale answers do not', async () => {
    const onUnauthorized = vi.fn();
    let token: string | null = 'rkt_old';
    const credentials = { token: () => token, onUnauthorized };
    const expired = fakeFetch(401, { code: 'read_token_expired', message: 'the read token expired at 2026-11-01T00:00:00Z' });
    const error = await createApi('', expired.impl, credentials).sourceStats('dcss', {}).catch((e) => e);
    expect([error.status, error.code]).toEqual([401, 'read_token_expired']);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith(error);
    // A proxy's 401 without a Reckon body also means the token was refused.
    await createApi('', fakeFetch(401, 'no', 'text/plain').impl, credentials).orgs().catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledTimes(2);
    await createApi('', fakeFetch(404, { code: 'unknown_source', message: 'no source' }).impl, credentials).sourceStats('vault', {}).catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledTimes(2);
    // The reader signed in again while the old token's request was on its way.
    const slow = (async () => {
      token = 'rkt_new';
      return new Response(JSON.stringify({ code: 'read_token_invalid', message: 'unknown read token' }), { status: 401, headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch;
    await createApi('', slow, credentials).orgs().catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledTimes(2);
  });

  test('the API base comes from the meta tag, without a trailing slash', () => {
    document.head.innerHTML = '<meta name="reckon-api-base" content="https://stats.example.com/">';
    expect(apiBase()).toBe('https://stats.example.com');
    document.head.innerHTML = '<meta name="reckon-api-base" content="%VITE_RECKON_API_BASE%">';
    expect(apiBase()).toBe('');
    document.head.innerHTML = '';
    expect(apiBase()).toBe('');
  });
});
