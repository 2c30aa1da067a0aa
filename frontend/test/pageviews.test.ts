import { render } from 'lit-html';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ApiError, createApi, type Api, type SiteStats, type ViewPoint } from '../src/api/client';
import { hrefFor, type ViewContext } from '../src/context';
import { bucketCount, chartColumns, dropRows, fitInterval, followLive, siteFilters, siteInterval, siteRange, statsQuery, stepDays, trimLeading, uniqueBy, UNIQUE_LABELS, type LiveState } from '../src/pageviews';
import { parseRoute } from '../src/route';
import { nav, showsSites } from '../src/ui/nav';
import { barChart } from '../src/ui/chart';
import { site, sitePage, sitesList, type SiteActions, type SiteView } from '../src/views/sites';
import { fakeFetch } from './fake-fetch';

vi.mock('../src/ui/chart', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/ui/chart')>()),
  barChart: vi.fn(() => () => undefined),
}));

const point = (bucket: string, views: number, uniques: number, visitors: number, entries = 0): ViewPoint => ({ bucket, views, uniques, visitors, entries });
const SERIES = [point('2026-11-28', 5, 3, 2, 2), point('2026-11-29', 0, 0, 0), point('2026-11-30', 7, 6, 4, 3)];

function stats(over: Partial<SiteStats> = {}): SiteStats {
  return {
    site: 'blog.test',
    from: '2026-11-28T00:00:00Z',
    to: '2026-12-01T00:00:00Z',
    interval: 'day',
    page: null,
    referrer: null,
    source: null,
    series: SERIES,
    totals: { views: 12, uniques: 9, visitors: 6, entries: 5 },
    pages: [
      { name: '/post-1', views: 8, uniques: 6, visitors: 4, entries: 3 },
      { name: '/', views: 4, uniques: 3, visitors: 2, entries: 2 },
    ],
    referrers: [{ name: '(direct)', views: 10, uniques: 8, visitors: 5, entries: 4 }, { name: 'news.ycombinator.com', views: 2, uniques: 1, visitors: 1, entries: 1 }],
    sources: [{ name: 'Google', views: 1, uniques: 1, visitors: 1, entries: 1 }],
    entry_pages: [{ name: '/post-1', views: 3, uniques: 3, visitors: 3, entries: 3 }],
    dropped: [{ reason: 'bot', count: 2 }],
    ...over,
  };
}

describe('page views, pure parts', () => {
  test('the unique count and the interval come from the URL, with defaults', () => {
    expect(uniqueBy({})).toBe('uniques');
    expect(uniqueBy({ uniques: 'visitors' })).toBe('visitors');
    expect(uniqueBy({ uniques: 'nonsense' })).toBe('uniques');
    expect(siteInterval({})).toBe('day');
    expect(siteInterval({ interval: 'hour' })).toBe('hour');
    expect(siteInterval({ interval: 'year' })).toBe('day');
    expect([stepDays('hour'), stepDays('day'), stepDays('week'), stepDays('month')]).toEqual([1 / 24, 1, 7, 30]);
  });

  test('series to chart columns, for each unique definition', () => {
    expect(chartColumns(SERIES, 'uniques')).toEqual({
      buckets: ['2026-11-28', '2026-11-29', '2026-11-30'],
      views: [5, 0, 7],
      unique: [3, 0, 6],
      uniqueLabel: 'unique (client flag)',
    });
    expect(chartColumns(SERIES, 'visitors')).toEqual({
      buckets: ['2026-11-28', '2026-11-29', '2026-11-30'],
      views: [5, 0, 7],
      unique: [2, 0, 4],
      uniqueLabel: 'visitors (daily hash)',
    });
    expect(chartColumns([], 'visitors')).toEqual({ buckets: [], views: [], unique: [], uniqueLabel: UNIQUE_LABELS.visitors });
  });

  test('filters and the stats query', () => {
    const params = parseRoute('#/sites/blog.test?range=30d&page=%2Fp&source=Google&uniques=visitors&interval=week').params;
    expect(siteFilters(params)).toEqual({ page: '/p', source: 'Google' });
    expect(statsQuery(params, 10, new Date('2026-11-30T12:00:00Z'))).toEqual({ from: '2026-11-01', to: '2026-11-30', interval: 'week', page: '/p', source: 'Google', top: 10 });
    const today = new Date('2026-11-30T12:00:00Z');
    // All time starts in 2000, in weeks: days would be more than 2000 bars.
    expect(statsQuery({ range: 'all', referrer: '(direct)' }, 5, today)).toEqual({ from: '2000-01-01', to: '2026-11-30', interval: 'week', referrer: '(direct)', top: 5 });
    // Hours fit 30 days, not the default 90.
    expect(statsQuery({ range: '30d', interval: 'hour' }, 10, today).interval).toBe('hour');
    expect(statsQuery({ range: '30d', origin: 'log' }, 10, today).origin).toBe('log');
    expect(statsQuery({ range: '30d', origin: 'nope' }, 10, today)).not.toHaveProperty('origin');
    expect(statsQuery({ interval: 'hour' }, 10, today)).toEqual({ from: '2026-09-02', to: '2026-11-30', interval: 'day', top: 10 });
  });

  test('ranges: presets, custom dates, an end alone is the 30 days before it', () => {
    const today = new Date('2026-11-30T12:00:00Z');
    expect(siteRange({}, today)).toEqual({ from: '2026-09-02', to: '2026-11-30' });
    expect(siteRange({ range: 'all' }, today)).toEqual({ from: '2000-01-01', to: '2026-11-30' });
    expect(siteRange({ range: 'all', from: '2026-11-01' }, today)).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(siteRange({ to: '2026-06-30' }, today)).toEqual({ from: '2026-05-31', to: '2026-06-30' });
  });

  test('intervals too fine for the range become coarser, to at most 2000 buckets', () => {
    expect(bucketCount('2026-11-30', '2026-11-30', 'hour')).toBe(24);
    expect(bucketCount('2026-11-01', '2026-11-30', 'day')).toBe(30);
    expect(bucketCount('2026-09-02', '2026-11-30', 'hour')).toBe(90 * 24);
    expect(fitInterval('2026-11-01', '2026-11-30', 'hour')).toBe('hour');
    expect(fitInterval('2026-09-02', '2026-11-30', 'hour')).toBe('day');
    expect(fitInterval('2026-09-02', '2026-11-30', 'month')).toBe('month');
    expect(fitInterval('2000-01-01', '2026-11-30', 'day')).toBe('week');
    expect(fitInterval('1900-01-01', '2026-11-30', 'day')).toBe('month');
  });

  test('all time starts at the first bucket with views', () => {
    expect(trimLeading(SERIES)).toEqual(SERIES);
    expect(trimLeading([point('2026-01-01', 0, 0, 0), ...SERIES])).toEqual(SERIES);
    expect(trimLeading([point('2026-01-01', 0, 0, 0)])).toEqual([]);
  });

  test('drop reasons: every known one, zero when absent, then new ones', () => {
    expect(dropRows([{ reason: 'bot', count: 2 }, { reason: 'prefetch', count: 1 }, { reason: 'bot', count: 1 }])).toEqual([
      { reason: 'bot', label: 'Bots', count: 3 },
      { reason: 'automated_browser', label: 'Automated browsers', count: 0 },
      { reason: 'no_user_agent', label: 'No User-Agent', count: 0 },
      { reason: 'prefetch', label: 'prefetch', count: 1 },
    ]);
  });
});

/** A response whose event stream the test writes to, and ends. */
function stream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { headers: { 'Content-Type': 'text/event-stream' } }),
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

describe('following the live stream', () => {
  afterEach(() => void vi.useRealTimers());

  test('re-reads once per burst of views, debounced; ignores other events; reconnects; stops', async () => {
    vi.useFakeTimers();
    const streams = [stream(), stream()];
    const opened: AbortSignal[] = [];
    const open = vi.fn(async (signal: AbortSignal) => {
      opened.push(signal);
      return streams[opened.length - 1]!.response;
    });
    const onViews = vi.fn();
    const states: LiveState[] = [];
    const stop = followLive({ open, onViews, onState: (s) => states.push(s), debounceMs: 200, retryMs: 1000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['connecting', 'live']);
    streams[0]!.send('event: views\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(100);
    streams[0]!.send('event: views\ndata: {}\n\nevent: other\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(150);
    expect(onViews).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60);
    expect(onViews).toHaveBeenCalledOnce();
    streams[0]!.send('event: other\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(500);
    expect(onViews).toHaveBeenCalledOnce();
    // The stream ends: offline, then open again after retryMs.
    streams[0]!.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe('offline');
    expect(open).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(1000);
    expect(open).toHaveBeenCalledTimes(2);
    expect(states.slice(-2)).toEqual(['connecting', 'live']);
    streams[1]!.send('event: views\ndata: {}\n\n');
    stop();
    expect(opened[1]!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(onViews).toHaveBeenCalledOnce();
  });

  test('a refused stream is not retried', async () => {
    vi.useFakeTimers();
    const open = vi.fn(async () => {
      throw new ApiError(404, 'not_found', 'no site');
    });
    const states: LiveState[] = [];
    const stop = followLive({ open, onViews: () => undefined, onState: (s) => states.push(s), fatal: (e) => e instanceof ApiError && e.status === 404 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(open).toHaveBeenCalledOnce();
    expect(states).toEqual(['connecting', 'offline']);
    stop();
  });
});

describe('page views, the api client', () => {
  test('asks the sites endpoints with the token and only the set params', async () => {
    const { impl, calls, auth } = fakeFetch(200, { sites: [] });
    const api = createApi('http://reckon.test', impl, { token: () => 'rkt_x' });
    await api.sites();
    await api.siteStats('a b', { from: '2026-11-01', to: '2026-11-30', interval: 'hour', page: '/p?x=1', referrer: '', top: 10 });
    await api.siteNow('blog.test');
    expect(calls).toEqual([
      'http://reckon.test/api/v1/sites',
      'http://reckon.test/api/v1/sites/a%20b/stats?from=2026-11-01&to=2026-11-30&interval=hour&page=%2Fp%3Fx%3D1&top=10',
      'http://reckon.test/api/v1/sites/blog.test/now',
    ]);
    expect(auth).toEqual(Array(3).fill('Bearer rkt_x'));
  });

  test('the live stream carries the token in a header; a refusal is an ApiError', async () => {
    let seen: [string, RequestInit | undefined] | undefined;
    const ok = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen = [String(input), init];
      return new Response('event: views\ndata: {}\n\n', { headers: { 'Content-Type': 'text/event-stream' } });
    }) as typeof fetch;
    const api = createApi('http://reckon.test', ok, { token: () => 'rkt_x' });
    const response = await api.siteLive('blog.test', new AbortController().signal);
    expect(seen![0]).toBe('http://reckon.test/api/v1/sites/blog.test/live');
    expect((seen![1]!.headers as Record<string, string>).Authorization).toBe('Bearer rkt_x');
    expect(await response.text()).toContain('event: views');
    const onUnauthorized = vi.fn();
    const refused = await createApi('', fakeFetch(401, { code: 'unauthorized', message: 'no' }).impl, { token: () => 'rkt_y', onUnauthorized })
      .siteLive('blog.test', new AbortController().signal)
      .catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect([refused.status, refused.code]).toEqual([401, 'unauthorized']);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });
});

function draw(hash: string, over: Partial<SiteView> = {}): HTMLElement {
  const route = parseRoute(hash);
  const view: SiteView = {
    site: 'blog.test',
    stats: stats(),
    now: { state: 'ready', now: { site: 'blog.test', since: '2026-11-30T11:55:00Z', views: 3, uniques: 2, visitors: 2, entries: 1 } },
    by: uniqueBy(route.params),
    origin: 'all',
    interval: siteInterval(route.params),
    filters: siteFilters(route.params),
    live: 'live',
    base: 'http://reckon.test',
    ...over,
  };
  const actions: SiteActions = { href: (changes) => hrefFor(route, changes), mountChart: vi.fn() };
  const el = document.createElement('div');
  render(sitePage(view, actions), el);
  return el;
}

const text = (el: Element | null) => el?.textContent?.replace(/\s+/g, ' ').trim();

describe('the site page', () => {
  test('totals, now, the toggle, top lists as filters, drops', () => {
    const el = draw('#/sites/blog.test?range=30d');
    expect(text(el.querySelector('h1'))).toBe('Page views: blog.test');
    expect(el.querySelector('[data-testid="site-live"]')?.getAttribute('data-state')).toBe('live');
    expect(text(el.querySelector('[data-testid="site-total-views"] .card-value'))).toBe('12');
    expect(text(el.querySelector('[data-testid="site-total-uniques"] .card-value'))).toBe('9');
    expect(text(el.querySelector('[data-testid="site-total-visitors"] .card-value'))).toBe('6');
    expect(text(el.querySelector('[data-testid="site-total-entries"] .card-value'))).toBe('5');
    expect(text(el.querySelector('[data-testid="site-now-visitors"] .card-value'))).toBe('2');
    expect(text(el.querySelector('[data-testid="site-now-views"] .card-value'))).toBe('3');
    const toggle = [...el.querySelectorAll('[data-testid="site-chart"] .segmented a')].map((a) => [text(a), a.getAttribute('href'), a.getAttribute('aria-current')]);
    expect(toggle).toEqual([
      ['All', '#/sites/blog.test?range=30d', 'true'],
      ['Script', '#/sites/blog.test?range=30d&origin=script', null],
      ['Logs', '#/sites/blog.test?range=30d&origin=log', null],
      ['unique (client flag)', '#/sites/blog.test?range=30d', 'true'],
      ['visitors (daily hash)', '#/sites/blog.test?range=30d&uniques=visitors', null],
    ]);
    const link = (testId: string, name: string) => el.querySelector(`[data-testid="${testId}"] tr[data-name="${name}"] a`)?.getAttribute('href');
    expect(link('site-pages', '/post-1')).toBe('#/sites/blog.test?range=30d&page=%2Fpost-1');
    expect(link('site-entry-pages', '/post-1')).toBe('#/sites/blog.test?range=30d&page=%2Fpost-1');
    expect(link('site-referrers', '(direct)')).toBe('#/sites/blog.test?range=30d&referrer=%28direct%29');
    expect(link('site-sources', 'Google')).toBe('#/sites/blog.test?range=30d&source=Google');
    // The page list shows views beside the chosen unique count.
    expect([...el.querySelectorAll('[data-testid="site-pages"] thead th')].map(text)).toEqual(['Page', 'Views', 'Unique']);
    expect([...el.querySelectorAll('[data-testid="site-dropped"] tbody tr')].map((tr) => [tr.getAttribute('data-reason'), text(tr.querySelector('td.num'))])).toEqual([
      ['bot', '2'],
      ['automated_browser', '0'],
      ['no_user_agent', '0'],
    ]);
    expect(el.querySelector('[data-testid="site-filters"]')).toBeNull();
  });

  test('visitors by the daily hash, filter chips that remove themselves, and no links for a set filter', () => {
    const el = draw('#/sites/blog.test?uniques=visitors&page=%2Fpost-1&referrer=%28direct%29');
    expect(el.querySelector('[data-testid="site-chart"]')?.getAttribute('data-uniques')).toBe('visitors');
    expect([...el.querySelectorAll('[data-testid="site-pages"] thead th')].map(text)).toEqual(['Page', 'Views', 'Visitors']);
    const chips = [...el.querySelectorAll('[data-testid="site-filters"] a.chip')].map((a) => [text(a), a.getAttribute('href')]);
    expect(chips).toEqual([
      ['Page: /post-1 ×', '#/sites/blog.test?referrer=%28direct%29&uniques=visitors'],
      ['Referrer: (direct) ×', '#/sites/blog.test?page=%2Fpost-1&uniques=visitors'],
    ]);
    expect(el.querySelector('[data-testid="site-pages"] tbody a')).toBeNull();
    expect(el.querySelector('[data-testid="site-sources"] tbody a')).not.toBeNull();
  });

  test('the chart gets the columns of the chosen count and the step of the interval', () => {
    const route = parseRoute('#/sites/blog.test?uniques=visitors&interval=hour');
    const mountChart = vi.fn();
    const el = document.createElement('div');
    render(
      sitePage(
        { site: 'blog.test', stats: stats({ interval: 'hour' }), now: { state: 'loading' }, by: 'visitors', origin: 'all', interval: 'hour', filters: {}, live: 'connecting', base: '' },
        { href: (c) => hrefFor(route, c), mountChart },
      ),
      el,
    );
    expect(mountChart).toHaveBeenCalledWith(el.querySelector('.chart'), chartColumns(SERIES, 'visitors'), 1 / 24);
    expect(text(el.querySelector('[data-testid="site-now-views"] .card-value'))).toBe('…');
    expect(el.querySelector('[data-testid="site-interval-note"]')).toBeNull();
  });

  test('says when the interval asked for was too fine for the range', () => {
    const el = draw('#/sites/blog.test?interval=hour', { interval: 'day', asked: 'hour' });
    expect(text(el.querySelector('[data-testid="site-interval-note"]'))).toBe('Hours would make more than 2,000 bars in this range, so this shows days. Pick a shorter range for hours.');
    expect(text(el.querySelector('[data-testid="site-chart"] h2'))).toBe('Views per day');
  });

  test('no views: says how to send them, and still lists the drops', () => {
    const el = draw('#/sites/blog.test?source=Google', { stats: stats({ series: [], totals: { views: 0, uniques: 0, visitors: 0, entries: 0 }, pages: [], referrers: [], sources: [], entry_pages: [] }) });
    expect(text(el.querySelector('.state.empty h2'))).toBe('No views in this range');
    expect(el.querySelector('[data-testid="how-to-track"]')?.textContent).toContain('reckon sites add blog.test');
    expect(el.querySelector('[data-testid="site-chart"]')).toBeNull();
    expect(el.querySelector('[data-testid="site-dropped"]')).not.toBeNull();
  });

  test('the list of sites', () => {
    const el = document.createElement('div');
    render(
      sitesList(
        [
          { domain: 'blog.test', origins: ['http://127.0.0.1:1', 'https://blog.test'], public_live: true, token: false },
          { domain: 'shop.test', origins: [], public_live: false, token: true },
        ],
        (d) => `#/sites/${d}`,
        '',
      ),
      el,
    );
    expect([...el.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map(text))).toEqual([
      ['blog.test', 'http://127.0.0.1:1https://blog.test', 'public', 'no'],
      ['shop.test', 'none', 'private', 'yes'],
    ]);
    expect(el.querySelector('tbody a')?.getAttribute('href')).toBe('#/sites/blog.test');
    render(sitesList([], () => '', 'http://reckon.test'), el);
    expect(text(el.querySelector('h2'))).toBe('No sites yet');
  });

  test('the nav shows Sites once a site is readable, and marks it current on its pages', () => {
    expect([showsSites(0), showsSites(), showsSites(1)]).toEqual([false, false, true]);
    const el = document.createElement('nav');
    const sites = () => [...el.querySelectorAll('a')].filter((a) => a.textContent === 'Sites').map((a) => [a.getAttribute('href'), a.getAttribute('aria-current')]);
    render(nav(parseRoute('#/events?range=30d'), [], undefined, () => undefined, { signOut: () => undefined }), el);
    expect(sites()).toEqual([]);
    render(nav(parseRoute('#/events?range=30d'), [], undefined, () => undefined, { signOut: () => undefined, sites: 2 }), el);
    expect(sites()).toEqual([['#/sites?range=30d', null]]);
    render(nav(parseRoute('#/sites/blog.test?uniques=visitors'), [], undefined, () => undefined, { signOut: () => undefined }), el);
    expect(sites()).toEqual([['#/sites', 'page']]);
  });
});

describe('the site view', () => {
  afterEach(() => void vi.useRealTimers());

  test('reads stats and now, follows the live stream, re-reads once per burst, and stops when left', async () => {
    vi.useFakeTimers();
    vi.mocked(barChart).mockClear();
    let views = 12;
    const siteStats = vi.fn(async () => stats({ totals: { views, uniques: 9, visitors: 6, entries: 5 }, series: [point('2026-11-30', views, 9, 6)] }));
    const siteNow = vi.fn(async () => ({ site: 'blog.test', since: '', views: 1, uniques: 1, visitors: 1, entries: 1 }));
    const live = stream();
    let liveSignal: AbortSignal | undefined;
    const siteLive = vi.fn(async (_site: string, signal: AbortSignal) => {
      liveSignal = signal;
      return live.response;
    });
    const route = parseRoute('#/sites/blog.test?range=30d&uniques=visitors&page=%2Fpost-1');
    const main = document.createElement('main');
    const bar = document.createElement('section');
    const cleanups: (() => void)[] = [];
    let current = true;
    const ctx: ViewContext = {
      api: { siteStats, siteNow, siteLive } as unknown as Api,
      route,
      show: (t) => current && render(t, main),
      showControls: (t) => t && render(t, bar),
      current: () => current,
      onCleanup: (fn) => void cleanups.push(fn),
      href: (changes, target = route) => hrefFor(target, changes),
      navigate: () => undefined,
      orgOptions: async () => ({ teams: [], repos: [] }),
    };
    await site(ctx);
    await vi.advanceTimersByTimeAsync(0);
    expect(siteStats).toHaveBeenCalledWith('blog.test', expect.objectContaining({ interval: 'day', page: '/post-1', top: 10 }));
    expect(siteLive).toHaveBeenCalledOnce();
    expect(main.querySelector('[data-testid="site-live"]')?.getAttribute('data-state')).toBe('live');
    expect(main.querySelector('[data-testid="site-totals"]')?.getAttribute('data-views')).toBe('12');
    expect(main.querySelector('[data-testid="site-now-views"] .card-value')?.textContent).toBe('1');
    expect(bar.querySelector('[aria-label="Interval"] button.on')?.textContent?.trim()).toBe('Day');
    // The chart shows views beside visitors by the daily hash.
    expect(vi.mocked(barChart).mock.lastCall?.[1].series.map((s) => [s.label, s.values])).toEqual([
      ['Views', [12]],
      ['visitors (daily hash)', [6]],
    ]);
    const reads = siteStats.mock.calls.length;
    views = 15;
    live.send('event: views\ndata: {}\n\n');
    live.send('event: views\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(100);
    live.send('event: views\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(250);
    expect(siteStats.mock.calls.length).toBe(reads + 1);
    expect(main.querySelector('[data-testid="site-totals"]')?.getAttribute('data-views')).toBe('15');
    // New numbers redraw the chart.
    expect(vi.mocked(barChart).mock.lastCall?.[1].series[0]!.values).toEqual([15]);
    // Leaving the page ends the stream; later events read nothing.
    current = false;
    for (const fn of cleanups.splice(0)) fn();
    expect(liveSignal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(siteStats.mock.calls.length).toBe(reads + 1);
    expect(siteLive).toHaveBeenCalledOnce();
  });

  test('an unknown site says so, and opens no stream', async () => {
    const siteLive = vi.fn();
    const main = document.createElement('main');
    const route = parseRoute('#/sites/nope.test');
    const ctx = {
      api: { siteStats: async () => Promise.reject(new ApiError(404, 'not_found', 'no site `nope.test`')), siteNow: async () => Promise.reject(new ApiError(404, 'not_found', '')), siteLive } as unknown as Api,
      route,
      show: (t) => render(t, main),
      showControls: () => undefined,
      current: () => true,
      onCleanup: () => undefined,
      href: (changes) => hrefFor(route, changes),
      navigate: () => undefined,
      orgOptions: async () => ({ teams: [], repos: [] }),
    } satisfies ViewContext;
    await site(ctx);
    expect(main.querySelector('[data-testid="site-unknown"] h2')?.textContent).toBe('No site nope.test that you can read');
    expect(siteLive).not.toHaveBeenCalled();
  });
});
