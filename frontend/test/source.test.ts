import { render } from 'lit-html';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiError, type Api, type ServerDay, type ServerEvent, type SourceStats } from '../src/api/client';
import type { ViewContext } from '../src/context';
import { hrefFor } from '../src/context';
import { parseRoute, type Route } from '../src/route';
import { barChart } from '../src/ui/chart';
import {
  DAY_ROWS,
  dailyByType,
  eventSummary,
  field,
  page,
  serverSources,
  source,
  type SourceActions,
  type SourceView,
} from '../src/views/source';
// Real answers of `reckon serve` with a public api-key source `dcss` (srcs = ["cpo"]), after
// 10 events posted to /submit with a key from `reckon keys add --source dcss --src cpo`:
// GET /api/v1/sources/dcss/stats?from=2026-09-01&to=2026-11-29&top=10 and
// GET /events?ts_day=1795910400000&source=dcss (2026-11-29).
import capturedDay from './fixtures/source-day.json';
import capturedStats from './fixtures/source-stats.json';

vi.mock('../src/ui/chart', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/ui/chart')>()),
  barChart: vi.fn(() => () => undefined),
}));

// The fixtures must keep the shape the client promises (checked by `tsc`).
const stats: SourceStats = capturedStats;
const dayEvents: ServerEvent[] = capturedDay;
const DAY = '2026-11-29';

const noActions: SourceActions = {
  mountChart: () => undefined,
  pickDay: () => undefined,
  showMore: () => undefined,
  retryDay: () => undefined,
  allTimeHref: '#/sources/dcss?range=all',
  eventsHref: '#/events?source=dcss',
};

function draw(view: Partial<SourceView>, actions: Partial<SourceActions> = {}): HTMLElement {
  const el = document.createElement('div');
  const full: SourceView = { source: 'dcss', stats, from: '2026-11-27', to: DAY, day: DAY, base: 'http://reckon.test', ...view };
  render(page(full, { ...noActions, ...actions }), el);
  return el;
}

const cells = (el: Element, selector: string) =>
  [...el.querySelectorAll(`${selector} tbody tr`)].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()));

describe('server events, pure parts', () => {
  test('summaries: milestone text, game message or outcome with the score', () => {
    expect(eventSummary({ type: 'milestone', data: { name: 'Blork', type: 'uniq', milestone: 'killed Sigmund.' } })).toBe('killed Sigmund.');
    expect(eventSummary({ type: 'milestone', data: { type: 'rune' } })).toBe('rune');
    expect(eventSummary({ type: 'game', data: { ktyp: 'winning', sc: '1234', tmsg: 'escaped with the Orb' } })).toBe('escaped with the Orb (score 1,234)');
    expect(eventSummary({ type: 'game', data: { ktyp: 'quitting', sc: '3' } })).toBe('quitting (score 3)');
    expect(eventSummary({ type: 'game', data: { sc: '12' } })).toBe('score 12');
    expect(eventSummary({ type: 'game', data: { ktyp: 'mon' } })).toBe('mon');
    expect(eventSummary({ type: 'crash', data: { msg: 'segfault' } })).toBe('');
    expect(eventSummary({ type: 'xlog', data: { ktyp: 'mon', sc: 77 } })).toBe('mon (score 77)');
    expect(field({ a: 1, b: true, c: { x: 1 }, d: null }, 'a') + field({ b: true }, 'b') + field({ c: {} }, 'c')).toBe('1true');
  });

  test('days by type are zero-filled, milestones first, then games, then the rest by name', () => {
    const series = dailyByType(
      [
        { day: '2026-11-27', src: 'cao', type: 'game', count: 1 },
        { day: '2026-11-27', src: 'cpo', type: 'game', count: 2 },
        { day: '2026-11-29', src: 'cpo', type: 'milestone', count: 5 },
        { day: '2026-11-29', src: 'cpo', type: 'crash', count: 1 },
        { day: '2026-10-01', src: 'cpo', type: 'milestone', count: 9 },
      ],
      '2026-11-27',
      '2026-11-29',
    );
    expect(series.buckets).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    expect(series.types.map((t) => [t.type, t.values])).toEqual([
      ['milestone', [0, 0, 5]],
      ['game', [3, 0, 0]],
      ['crash', [0, 0, 1]],
    ]);
    // Totals count every row the server sent, also outside the drawn days.
    expect(series.types.map((t) => t.total)).toEqual([14, 3, 1]);
    expect(new Set(series.types.map((t) => t.color)).size).toBe(3);
  });

  test('the source list leaves out GitHub and names each source once', () => {
    const days = [
      { source: 'github', day: DAY, events: 3 },
      { source: 'github-sync', day: DAY, events: 1 },
      { source: 'dcss', day: DAY, events: 2 },
      { source: 'dcss', day: '2026-11-28', events: 2 },
      { source: 'ci', day: DAY, events: 1 },
    ];
    expect(serverSources(days)).toEqual(['ci', 'dcss']);
  });
});

describe('the server-events page', () => {
  test('renders the totals, the chart and the tables from a real stats answer', () => {
    const el = draw({ dayState: { state: 'loading' } });
    expect(el.querySelector('h1')?.textContent).toBe('Server events: dcss');
    const value = (id: string) => el.querySelector(`[data-testid="${id}"] .card-value`)?.textContent?.trim();
    expect([value('source-events'), value('source-milestone-count'), value('source-game-count'), value('source-wins'), value('source-servers')]).toEqual(['10', '5', '4', '2', '1']);
    const chart = el.querySelector('[data-testid="source-chart"]')!;
    expect(chart.getAttribute('data-total')).toBe('10');
    expect(chart.getAttribute('data-types')).toBe('milestone game crash');
    expect(chart.querySelector('[role="img"]')?.getAttribute('aria-label')).toContain('10 events on 1 day (5 milestones, 4 games, 1 crash)');
    expect(cells(chart, 'table')).toEqual([[DAY, '5', '4', '1', '10']]);
    expect(cells(el, '[data-testid="source-milestones"]')).toEqual([['rune', '2'], ['uniq', '2'], ['br.enter', '1']]);
    expect(cells(el, '[data-testid="source-games"]')).toEqual([['winning', '2'], ['mon', '1'], ['quitting', '1']]);
    expect(cells(el, '[data-testid="top-by-games"]')).toEqual([['Zed', '2', '0'], ['Ann', '1', '1'], ['Blork', '1', '1']]);
    expect(cells(el, '[data-testid="top-by-wins"]')).toEqual([['Ann', '1', '1'], ['Blork', '1', '1']]);
    expect(el.querySelector('[data-testid="source-day"]')?.textContent).toContain('Loading the events of 2026-11-29');
  });

  test("lists the day's events in accepted order, with time, server, type, player and summary", () => {
    const el = draw({ dayState: { state: 'ready', answer: { events: dayEvents, nextAfter: null }, shown: DAY_ROWS } });
    const rows = cells(el, '[data-testid="source-day"]');
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual(['09:32:22', 'cpo', 'milestone', 'Blork', 'killed Sigmund.']);
    expect(rows[2]).toEqual(['09:32:22', 'cpo', 'game', 'Blork', 'escaped with the Orb (score 1,234)']);
    expect(rows[7]).toEqual(['09:37:01', 'cpo', 'game', 'Zed', 'quitting (score 3)']);
    expect(rows[9]).toEqual(['09:37:01', 'cpo', 'milestone', 'Ann', 'found a barnacled rune of Zot.']);
    const ids = [...el.querySelectorAll('[data-testid="source-day"] tbody tr')].map((tr) => Number(tr.getAttribute('data-id')));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(el.querySelector('[data-testid="source-day-caption"]')?.textContent).toContain('10 events accepted on 2026-11-29 (UTC)');
    expect(el.querySelector('input[name="day"]')?.getAttribute('type')).toBe('date');
  });

  // Drawing 500 rows in happy-dom takes seconds on a busy machine: allow more than 5 s.
  test('a large day draws 500 rows and says how many more there are', { timeout: 20_000 }, () => {
    const many: ServerEvent[] = Array.from({ length: 1234 }, (_, i) => ({ ...dayEvents[0]!, id: String(i + 1) }));
    const showMore = vi.fn();
    const el = draw({ dayState: { state: 'ready', answer: { events: many, nextAfter: null }, shown: DAY_ROWS } }, { showMore });
    expect(el.querySelectorAll('[data-testid="source-day"] tbody tr')).toHaveLength(500);
    expect(el.querySelector('[data-testid="source-day-caption"]')?.textContent).toContain('Showing the first 500; 734 more.');
    const button = [...el.querySelectorAll('button')].find((b) => b.textContent?.includes('more'))!;
    expect(button.textContent?.trim()).toBe('Show 500 more');
    button.click();
    expect(showMore).toHaveBeenCalledOnce();
  });

  test('the last page of a day offers only what is left, and a cut answer says so', () => {
    // After "Show more", `shown` grows by DAY_ROWS; the button offers what remains.
    const five = dayEvents.slice(0, 5);
    const later = draw({ dayState: { state: 'ready', answer: { events: five, nextAfter: '5' }, shown: 2 } });
    expect(later.querySelectorAll('[data-testid="source-day"] tbody tr')).toHaveLength(2);
    expect(later.querySelector('button')?.textContent?.trim()).toBe('Show 3 more');
    // The server cut the day (X-Reckon-Next-After): the count is a lower bound.
    expect(later.querySelector('[data-testid="source-day-caption"]')?.textContent).toContain('5+ events');
    expect(later.querySelector('[data-testid="source-day"]')?.textContent).toContain('/api/v1/sources/dcss/events?after=5');
    const all = draw({ dayState: { state: 'ready', answer: { events: five, nextAfter: null }, shown: DAY_ROWS } });
    expect(all.querySelector('[data-testid="source-day"] button')).toBeNull();
  });

  test('an empty range and an empty day say how to send events', () => {
    const none: SourceStats = { source: 'dcss', days: [], milestones: [], games: [], top_by_games: [], top_by_wins: [] };
    const el = draw({ stats: none, day: undefined });
    expect(el.querySelector('[role="status"] h2')?.textContent).toBe('No dcss events in this range');
    const steps = el.querySelector('[data-testid="how-to-send"]')?.textContent ?? '';
    expect(steps).toContain('reckon keys add --source dcss --src SERVER');
    expect(steps).toContain('http://reckon.test/submit');
    expect(steps).toContain('reckon ship --src SERVER --key KEY --url http://reckon.test saves/logfile saves/milestones');
    expect(el.querySelector('[data-testid="source-chart"]')).toBeNull();
    const day = draw({ dayState: { state: 'ready', answer: { events: [], nextAfter: null }, shown: DAY_ROWS } });
    expect(day.querySelector('[data-testid="source-day"]')?.textContent).toContain('No dcss events were accepted on 2026-11-29 (UTC).');
  });

  test('a failed day shows the error with a retry', () => {
    const retryDay = vi.fn();
    const el = draw({ dayState: { state: 'failed', error: new ApiError(503, 'store_unavailable', 'busy') } }, { retryDay });
    const alert = el.querySelector('[data-testid="source-day"] [role="alert"]')!;
    expect(alert.getAttribute('data-code')).toBe('store_unavailable');
    (alert.querySelector('button') as HTMLButtonElement).click();
    expect(retryDay).toHaveBeenCalledOnce();
    expect(el.querySelector('[data-testid="source-totals"]')).not.toBeNull();
  });
});

/** A view context over a fake API, rendering into `main` and `bar`. */
function fakeContext(hash: string, api: Partial<Api>) {
  const main = document.createElement('main');
  const bar = document.createElement('section');
  const navigated: Route[] = [];
  const route = parseRoute(hash);
  const ctx: ViewContext = {
    api: api as Api,
    route,
    show: (t) => render(t, main),
    showControls: (t) => {
      if (t) render(t, bar);
    },
    current: () => true,
    onCleanup: () => undefined,
    href: (changes, target = route) => hrefFor(target, changes),
    navigate: (r) => void navigated.push(r),
    orgOptions: async () => ({ teams: [], repos: [] }),
  };
  return { ctx, main, bar, navigated };
}

describe('the server-events view', () => {
  beforeEach(() => vi.mocked(barChart).mockClear());

  test('fetches the stats and the picked day, and draws the stacked chart', async () => {
    const sourceStats = vi.fn(async () => stats);
    const serverDay = vi.fn(async (): Promise<ServerDay> => ({ events: dayEvents, nextAfter: null }));
    const eventDays = vi.fn(async () => ({ days: [{ source: 'github', day: DAY, events: 1 }, { source: 'dcss', day: DAY, events: 10 }] }));
    const { ctx, main, bar, navigated } = fakeContext('#/sources/dcss?from=2026-11-27&to=2026-11-29', { sourceStats, serverDay, eventDays });
    await source(ctx);
    expect(sourceStats).toHaveBeenCalledWith('dcss', { from: '2026-11-27', to: DAY }, 10);
    // The last day with events is picked; `ts_day` is its UTC midnight in milliseconds.
    expect(serverDay).toHaveBeenCalledWith('dcss', Date.UTC(2026, 10, 29));
    expect(main.querySelectorAll('[data-testid="source-day"] tbody tr')).toHaveLength(10);
    expect(barChart).toHaveBeenCalledOnce();
    const options = vi.mocked(barChart).mock.calls[0]![1];
    expect(options.stacked).toBe(true);
    expect(options.buckets).toEqual(['2026-11-27', '2026-11-28', DAY]);
    expect(options.series.map((s) => [s.label, s.values])).toEqual([
      ['milestone', [0, 0, 5]],
      ['game', [0, 0, 4]],
      ['crash', [0, 0, 1]],
    ]);
    options.onPick?.(1);
    expect(navigated.at(-1)?.params.day).toBe('2026-11-28');
    await vi.waitFor(() => expect(bar.querySelector('select[name="source-page"]')?.textContent).toContain('dcss'));
    expect(bar.querySelector('select[name="source-page"]')?.textContent).not.toContain('github');
  });

  test('a source the read token may not read says which scope would, without leaking that it exists', async () => {
    const sourceStats = vi.fn(async () => {
      throw new ApiError(404, 'unknown_source', 'no source named `vault` is configured');
    });
    const { ctx, main } = fakeContext('#/sources/vault', { sourceStats, eventDays: async () => ({ days: [] }) });
    await source(ctx);
    const state = main.querySelector('[data-testid="source-unknown"]')!;
    expect(state.getAttribute('role')).toBe('status');
    expect(state.querySelector('h2')?.textContent).toBe('vault takes no server events you can read');
    expect(state.textContent).toContain('reckon tokens add --name NAME --scope source:vault');
    expect(main.querySelector('[role="alert"]')).toBeNull();
  });

  test('a source that takes no server events says how to configure one', async () => {
    const sourceStats = vi.fn(async () => {
      throw new ApiError(404, 'unknown_source', 'no source named `ci` is configured');
    });
    const eventDays = async () => ({ days: [{ source: 'ci', day: DAY, events: 1 }, { source: 'dcss', day: DAY, events: 1 }] });
    const { ctx, main } = fakeContext('#/sources/ci?range=30d', { sourceStats, eventDays });
    await source(ctx);
    const state = main.querySelector('[data-testid="source-unknown"]')!;
    expect(state.textContent).toContain('auth = "api-key"');
    expect(state.querySelector('a')?.getAttribute('href')).toBe('#/sources/dcss?range=30d');
  });

  test('without a source name it opens the first one, or says how to start', async () => {
    const first = fakeContext('#/sources?range=all', {
      eventDays: async () => ({ days: [{ source: 'github', day: DAY, events: 1 }, { source: 'tome', day: DAY, events: 1 }, { source: 'dcss', day: DAY, events: 1 }] }),
    });
    await source(first.ctx);
    expect(first.navigated).toEqual([{ page: 'source', source: 'dcss', params: { range: 'all' } }]);
    const none = fakeContext('#/sources', { eventDays: async () => ({ days: [{ source: 'github', day: DAY, events: 1 }] }) });
    await source(none.ctx);
    expect(none.main.querySelector('[role="status"] h2')?.textContent).toBe('No server events yet');
    expect(none.main.textContent).toContain('[sources.dcss]');
    expect(none.main.textContent).toContain('reckon keys add --source dcss --src SERVER');
  });
});
