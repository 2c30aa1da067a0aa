import { describe, expect, test } from 'vitest';
import { ApiError, apiBase, createApi } from '../src/api/client';
import { advice } from '../src/ui/states';

function fakeFetch(status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}) {
  const calls: string[] = [];
  const impl = (async (input: RequestInfo | URL) => {
    calls.push(input instanceof Request ? input.url : String(input));
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': contentType, ...headers },
    });
  }) as typeof fetch;
  return { impl, calls };
}

describe('api client', () => {
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

  test('a private source answers 401 with its code', async () => {
    const { impl } = fakeFetch(401, { code: 'read_token_missing', message: 'this source is not public' });
    const error = await createApi('', impl).sourceStats('secret', {}).catch((e) => e);
    expect([error.status, error.code]).toEqual([401, 'read_token_missing']);
    const day = await createApi('', impl).serverDay('secret', 0).catch((e) => e);
    expect([day.status, day.code]).toEqual([401, 'read_token_missing']);
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
