import { render } from 'lit-html';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiError, createApi, type Api, type CodingItem, type SummariesAnswer, type SummaryDay } from '../src/api/client';
import { codingBy, codingRange, dailyStacks, dayIn, hours, mergeItems, summariesPeriod, todayIn, topWithOther } from '../src/coding';
import { hrefFor, type ViewContext } from '../src/context';
import { codingTime, percent } from '../src/format';
import { parseRoute, type Route } from '../src/route';
import { barChart } from '../src/ui/chart';
import { nav, showsCoding } from '../src/ui/nav';
import { coding, codingProject, projectPage, userPage, type CodingActions, type CodingView } from '../src/views/coding';
import { fakeFetch } from './fake-fetch';

vi.mock('../src/ui/chart', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/ui/chart')>()),
  barChart: vi.fn(() => () => undefined),
}));

/** A WakaTime item of `seconds`; the percent is the server's and gets recomputed. */
function item(name: string, seconds: number): CodingItem {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return { name, total_seconds: seconds, percent: 0, digital: `${h}:${String(m).padStart(2, '0')}`, text: codingTime(seconds), hours: h, minutes: m };
}

function day(date: string, lists: Partial<Record<'projects' | 'languages' | 'editors' | 'operating_systems' | 'machines' | 'categories' | 'branches' | 'entities', [string, number][]>>): SummaryDay {
  const made = Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.map(([n, s]) => item(n, s))]));
  const total = (lists.projects ?? []).reduce((n, [, s]) => n + s, 0);
  return {
    grand_total: { total_seconds: total, text: codingTime(total), digital: '', decimal: '', hours: 0, minutes: 0 },
    projects: [],
    languages: [],
    editors: [],
    operating_systems: [],
    machines: [],
    categories: [],
    branches: [],
    ...made,
    range: { date, start: `${date}T00:00:00+01:00`, end: `${date}T23:59:59+01:00`, text: date, timezone: 'Europe/Berlin' },
  };
}

const DAYS: SummaryDay[] = [
  day('2026-11-27', {
    projects: [['reckon', 3600], ['site', 600]],
    languages: [['Rust', 3000], ['TypeScript', 1200]],
    editors: [['VS Code', 4200]],
    operating_systems: [['Linux', 4200]],
    machines: [['box', 4200]],
    categories: [['coding', 4200]],
    branches: [['main', 4200]],
  }),
  day('2026-11-28', {}),
  day('2026-11-29', {
    projects: [['reckon', 7320]],
    languages: [['Rust', 7320]],
    editors: [['Neovim', 7320]],
    operating_systems: [['Linux', 7320]],
    machines: [['laptop', 7320]],
    categories: [['coding', 7320]],
    branches: [['feat/coding', 7320]],
  }),
];

function answer(days: SummaryDay[]): SummariesAnswer {
  const total = days.reduce((n, d) => n + d.grand_total.total_seconds, 0);
  return {
    data: days,
    cumulative_total: { seconds: total, text: codingTime(total), digital: '', decimal: '' },
    daily_average: { seconds: total / Math.max(1, days.length), text: '' },
    start: days[0]?.range.start ?? '',
    end: days[days.length - 1]?.range.end ?? '',
  };
}

describe('coding time, pure parts', () => {
  test('times read like WakaTime', () => {
    expect(codingTime(0)).toBe('0 secs');
    expect(codingTime(1)).toBe('1 sec');
    expect(codingTime(45.9)).toBe('45 secs');
    expect(codingTime(300)).toBe('5 mins');
    expect(codingTime(60)).toBe('1 min');
    expect(codingTime(3660)).toBe('1 hr 1 min');
    expect(codingTime(3 * 3600 + 12 * 60 + 59)).toBe('3 hrs 12 mins');
    expect(codingTime(7200)).toBe('2 hrs');
    expect(codingTime(100 * 3600 + 60)).toBe('100 hrs 1 min');
    expect(codingTime(null)).toBe('0 secs');
    expect(codingTime(-5)).toBe('0 secs');
    expect([percent(42.14), percent(100), percent(0.04), percent(0), percent(7)]).toEqual(['42.1%', '100%', '<0.1%', '0%', '7%']);
  });

  test('range presets: the short ones by name, the long ones as days in the user zone', () => {
    expect(codingRange({})).toBe('last_7_days');
    expect(codingRange({ range: '90d' })).toBe('last_7_days');
    expect(codingRange({ range: 'this_month' })).toBe('this_month');
    expect(codingBy({ by: 'language' })).toBe('language');
    expect(codingBy({ by: 'nonsense' })).toBe('project');
    expect(summariesPeriod('last_30_days', '2026-11-29')).toEqual({ range: 'last_30_days' });
    expect(summariesPeriod('this_week', '2026-11-29')).toEqual({ range: 'this_week' });
    expect(summariesPeriod('last_6_months', '2026-11-29')).toEqual({ start: '2026-05-30', end: '2026-11-29' });
    expect(summariesPeriod('last_year', '2026-03-31')).toEqual({ start: '2025-04-01', end: '2026-03-31' });
    expect(summariesPeriod('all_time', '2026-11-29', '2024-02-03T10:00:00Z')).toEqual({ start: '2024-02-03', end: '2026-11-29' });
    expect(summariesPeriod('all_time', '2026-11-29', null)).toEqual({ start: '2026-11-29', end: '2026-11-29' });
    expect(summariesPeriod('all_time', '2026-11-29', 'garbage')).toEqual({ start: '2026-11-29', end: '2026-11-29' });
    // 23:30 UTC is already the next day in Berlin, and still the same in New York.
    const late = new Date('2026-11-29T23:30:00Z');
    expect(todayIn('Europe/Berlin', late)).toBe('2026-11-30');
    expect(todayIn('America/New_York', late)).toBe('2026-11-29');
    expect(todayIn('Not/AZone', late)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // All time's start is the first day's local midnight, the evening before in UTC.
    expect(dayIn('2025-01-01T23:00:00Z', 'Europe/Berlin')).toBe('2025-01-02');
    expect(dayIn('2025-01-02T00:00:00+01:00', 'Europe/Berlin')).toBe('2025-01-02');
    expect(dayIn('2025-01-02', 'America/New_York')).toBe('2025-01-02');
    expect([dayIn(null, 'UTC'), dayIn('garbage', 'UTC')]).toEqual([undefined, undefined]);
  });

  test('lists add up over the days, largest first, with shares of the whole', () => {
    const languages = mergeItems(DAYS, 'languages');
    expect(languages.map((s) => [s.name, s.total_seconds])).toEqual([['Rust', 10320], ['TypeScript', 1200]]);
    expect(languages[0]!.percent + languages[1]!.percent).toBeCloseTo(100);
    expect(languages[1]!.percent).toBeCloseTo((1200 * 100) / 11520);
    expect(mergeItems(DAYS, 'entities')).toEqual([]);
    const shares = ['a', 'b', 'c', 'd'].map((name, i) => ({ name, total_seconds: 40 - i * 10, percent: 40 - i * 10 }));
    expect(topWithOther(shares, 4)).toEqual({ rows: shares });
    const cut = topWithOther(shares, 2);
    expect(cut.rows.map((s) => s.name)).toEqual(['a', 'b']);
    expect(cut.other).toEqual({ name: 'Other', total_seconds: 30, percent: 30 });
  });

  test('one stack per day: the top names, the rest as Other, zero on empty days', () => {
    const { days, stacks } = dailyStacks(DAYS, 'projects', 1);
    expect(days).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    expect(stacks.map((s) => [s.name, s.values, s.total_seconds])).toEqual([
      ['reckon', [3600, 0, 7320], 10920],
      ['Other', [600, 0, 0], 600],
    ]);
    expect(dailyStacks(DAYS, 'languages', 8).stacks.map((s) => s.name)).toEqual(['Rust', 'TypeScript']);
    expect(dailyStacks([], 'projects', 8)).toEqual({ days: [], stacks: [] });
    expect(hours(5400)).toBe(1.5);
    expect(hours(61)).toBe(0.02);
  });
});

describe('coding time, the api client', () => {
  test('asks the WakaTime-shaped endpoints with escaped users and only the set filters', async () => {
    const { impl, calls, auth } = fakeFetch(200, { data: [] });
    const api = createApi('http://reckon.test', impl, { token: () => 'rkt_x' });
    await api.summaries('a b', { range: 'last_7_days', project: 'c/d', language: '', editor: undefined, branch: 'main' });
    await api.summaries('ada', { start: '2026-01-01', end: '2026-01-31' });
    await api.statusBarToday('ada');
    await api.allTimeStats('ada');
    await api.heartbeatUsers();
    expect(calls).toEqual([
      'http://reckon.test/api/v1/users/a%20b/summaries?range=last_7_days&project=c%2Fd&branch=main',
      'http://reckon.test/api/v1/users/ada/summaries?start=2026-01-01&end=2026-01-31',
      'http://reckon.test/api/v1/users/ada/statusbar/today',
      'http://reckon.test/api/v1/users/ada/stats/all_time',
      'http://reckon.test/api/v1/heartbeats/users',
    ]);
    expect(auth).toEqual(Array(5).fill('Bearer rkt_x'));
    const refused = await createApi('', fakeFetch(404, { code: 'not_found', message: 'no user `bob`' }).impl).summaries('bob', {}).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect([refused.status, refused.code]).toEqual([404, 'not_found']);
  });
});

describe('coding time in the nav', () => {
  test('shows for heartbeat users, or a token that may read them', () => {
    const token = (scopes: string[]) => ({ id: 'x', name: 'x', scopes, expires_at: null });
    expect(showsCoding(undefined, 0)).toBe(false);
    expect(showsCoding(token(['github:acme']), 0)).toBe(false);
    expect(showsCoding(token(['github:acme']), 2)).toBe(true);
    expect(showsCoding(token(['heartbeats:ada']))).toBe(true);
    expect(showsCoding(token(['admin']))).toBe(true);
    const el = document.createElement('nav');
    const links = () => [...el.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('aria-current')]);
    render(nav(parseRoute('#/events?range=30d'), [], undefined, () => undefined, { signOut: () => undefined }), el);
    expect(links().map((l) => l[0])).not.toContain('Coding time');
    render(nav(parseRoute('#/events?range=30d'), [], undefined, () => undefined, { signOut: () => undefined, codingUsers: 1 }), el);
    expect(links().find((l) => l[0] === 'Coding time')).toEqual(['Coding time', '#/coding', null]);
    // On a coding page its link is current, and its range stays off the other pages.
    render(nav(parseRoute('#/coding/ada/projects/reckon?range=last_year'), [], undefined, () => undefined, { signOut: () => undefined }), el);
    expect(links().find((l) => l[0] === 'Coding time')).toEqual(['Coding time', '#/coding/ada?range=last_year', 'page']);
    expect(links().find((l) => l[0] === 'Events')?.[1]).toBe('#/events');
  });
});

const noActions = (route: Route): CodingActions => ({
  href: (changes) => hrefFor(route, changes),
  projectHref: (project) => hrefFor({ ...route, page: 'coding-project', project }),
  userHref: hrefFor({ ...route, page: 'coding', project: undefined }),
  mountChart: () => undefined,
});

function draw(hash: string, view: Partial<CodingView>): HTMLElement {
  const route = parseRoute(hash);
  const full: CodingView = {
    user: 'ada',
    project: route.project,
    range: codingRange(route.params),
    by: codingBy(route.params),
    filters: {},
    summaries: answer(DAYS),
    today: { state: 'ready', seconds: 3 * 3600 + 12 * 60 },
    base: 'http://reckon.test',
    ...view,
  };
  const el = document.createElement('div');
  render((full.project ? projectPage : userPage)(full, noActions(route)), el);
  return el;
}

const rows = (el: Element, testId: string) =>
  [...el.querySelectorAll(`[data-testid="${testId}"] tbody tr`)].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()));

describe('the coding pages', () => {
  test("a user's page: today, totals, the chart and every top list with shares", () => {
    const el = draw('#/coding/ada?range=last_7_days', {});
    expect(el.querySelector('h1')?.textContent).toBe('Coding time: ada');
    const today = el.querySelector('[data-testid="coding-today"]')!;
    expect(today.textContent?.replace(/\s+/g, ' ').trim()).toBe('Today: 3 hrs 12 mins');
    expect(today.getAttribute('data-seconds')).toBe('11520');
    expect(el.querySelector('[data-testid="coding-total"] .card-value')?.textContent).toBe('3 hrs 12 mins');
    expect(el.querySelector('[data-testid="coding-days"] .card-value')?.textContent).toBe('2');
    const chart = el.querySelector('[data-testid="coding-chart"]')!;
    expect([chart.getAttribute('data-by'), chart.getAttribute('data-total'), chart.getAttribute('data-stacks')]).toEqual(['projects', '11520', 'reckon\nsite']);
    expect([...chart.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['2026-11-27', '1 hr', '10 mins', '1 hr 10 mins'],
      ['2026-11-29', '2 hrs 2 mins', '0 secs', '2 hrs 2 mins'],
    ]);
    expect(rows(el, 'coding-projects')).toEqual([
      ['reckon', '3 hrs 2 mins', '94.8%'],
      ['site', '10 mins', '5.2%'],
    ]);
    expect(el.querySelector('[data-testid="coding-projects"] a')?.getAttribute('href')).toBe('#/coding/ada/projects/reckon?range=last_7_days');
    expect(el.querySelector('[data-testid="coding-languages"] a')?.getAttribute('href')).toBe('#/coding/ada?range=last_7_days&language=Rust');
    expect(el.querySelector('[data-testid="coding-editors"] a')?.getAttribute('href')).toBe('#/coding/ada?range=last_7_days&editor=Neovim');
    for (const id of ['coding-operating-systems', 'coding-machines', 'coding-categories', 'coding-branches']) {
      expect(rows(el, id).length, id).toBeGreaterThan(0);
    }
    expect(rows(el, 'coding-branches')[0]).toEqual(['feat/coding', '2 hrs 2 mins', '63.5%']);
    const toggle = [...chart.querySelectorAll('.segmented a')].map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('aria-current')]);
    expect(toggle).toEqual([
      ['By project', '#/coding/ada?range=last_7_days', 'true'],
      ['By language', '#/coding/ada?range=last_7_days&by=language', null],
    ]);
    expect(el.querySelector('[data-testid="coding-filters"]')).toBeNull();
  });

  test('filters show as removable chips, and their own list no longer filters', () => {
    const el = draw('#/coding/ada?by=language&language=Rust&editor=Neovim', { by: 'language', filters: { language: 'Rust', editor: 'Neovim' } });
    const chips = [...el.querySelectorAll('[data-testid="coding-filters"] a.chip')].map((a) => [a.textContent?.replace(/\s+/g, ' ').trim(), a.getAttribute('href')]);
    expect(chips).toEqual([
      ['Language: Rust ×', '#/coding/ada?by=language&editor=Neovim'],
      ['Editor: Neovim ×', '#/coding/ada?by=language&language=Rust'],
    ]);
    expect(el.querySelector('[data-testid="coding-filters"] a:not(.chip)')?.getAttribute('href')).toBe('#/coding/ada?by=language');
    expect(el.querySelector('[data-testid="coding-chart"]')?.getAttribute('data-by')).toBe('languages');
    expect(el.querySelector('[data-testid="coding-languages"] a')).toBeNull();
  });

  test('long lists end with the rest added up', () => {
    const many = day('2026-11-29', { projects: Array.from({ length: 13 }, (_, i) => [`p${i}`, 1000 - i] as [string, number]) });
    const el = draw('#/coding/ada', { summaries: answer([many]) });
    const listed = rows(el, 'coding-projects');
    expect(listed).toHaveLength(11);
    expect(listed[10]).toEqual(['3 more', '49 mins', '23%']);
    expect(el.querySelector('[data-testid="coding-chart"]')?.getAttribute('data-stacks')?.split('\n')).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'Other']);
  });

  test('an empty range says how to send heartbeats', () => {
    const el = draw('#/coding/ada?language=Go', { summaries: answer([day('2026-11-29', {})]), filters: { language: 'Go' }, today: { state: 'ready', seconds: 0 } });
    expect(el.querySelector('[role="status"] h2')?.textContent).toBe('No heartbeats in this range');
    const text = el.querySelector('[role="status"]')?.textContent?.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('point a WakaTime plugin at http://reckon.test/api/v1 with a key from reckon keys add --source heartbeats --user ada');
    expect(text).toContain('api_url = http://reckon.test/api/v1');
    expect(el.querySelector('[data-testid="coding-today"]')?.textContent).toContain('0 secs');
    expect(el.querySelector('[data-testid="coding-chart"]')).toBeNull();
    const links = [...el.querySelectorAll('[role="status"] a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['#/coding/ada', '#/coding/ada?range=all_time&language=Go']);
  });

  test("a project's page: its total, files, branches and languages", () => {
    const files = [
      day('2026-11-27', { projects: [['reckon', 3600]], languages: [['Rust', 3600]], branches: [['main', 3600]], entities: [['src/main.rs', 3000], ['README.md', 600]] }),
      day('2026-11-29', { projects: [['reckon', 1800]], languages: [['Rust', 1200], ['Markdown', 600]], branches: [['main', 1800]], entities: [['src/main.rs', 1800]] }),
    ];
    const el = draw('#/coding/ada/projects/reckon?range=this_month', { summaries: answer(files), today: undefined });
    expect(el.querySelector('h1')?.textContent).toBe('Project: reckon');
    expect(el.querySelector('.crumbs a')?.getAttribute('href')).toBe('#/coding/ada?range=this_month');
    expect(el.querySelector('[data-testid="coding-today"]')).toBeNull();
    expect(el.querySelector('[data-testid="coding-total"] .card-value')?.textContent).toBe('1 hr 30 mins');
    expect(rows(el, 'coding-files')).toEqual([
      ['src/main.rs', '1 hr 20 mins', '88.9%'],
      ['README.md', '10 mins', '11.1%'],
    ]);
    expect(el.querySelector('[data-testid="coding-files"] a')).toBeNull();
    expect(rows(el, 'coding-branches')).toEqual([['main', '1 hr 30 mins', '100%']]);
    expect(el.querySelector('[data-testid="coding-branches"] a')?.getAttribute('href')).toBe('#/coding/ada/projects/reckon?range=this_month&branch=main');
    expect(rows(el, 'coding-languages').map((r) => r[0])).toEqual(['Rust', 'Markdown']);
    expect(el.querySelector('[data-testid="coding-chart"]')?.getAttribute('data-by')).toBe('languages');
    expect(el.querySelector('[data-testid="coding-chart"] .segmented')).toBeNull();
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

const USERS = { users: [{ name: 'ada', timezone: 'Europe/Berlin', last_heartbeat_at: '2026-11-29T10:00:00Z' }, { name: 'bob', timezone: 'UTC', last_heartbeat_at: null }] };
const TODAY = { data: { grand_total: { total_seconds: 11_520, text: '3 hrs 12 mins', digital: '3:12', decimal: '3.20', hours: 3, minutes: 12 }, categories: [], editors: [], languages: [], machines: [], operating_systems: [], projects: [], dependencies: [], range: {} } };

describe('the coding views', () => {
  beforeEach(() => vi.mocked(barChart).mockClear());

  test("a user's page asks the summaries with the filters and draws today and a stacked chart", async () => {
    const summaries = vi.fn(async () => answer(DAYS));
    const statusBarToday = vi.fn(async () => TODAY);
    const { ctx, main, bar } = fakeContext('#/coding/ada?range=last_30_days&editor=Neovim', { summaries, statusBarToday, heartbeatUsers: async () => USERS });
    await coding(ctx);
    expect(summaries).toHaveBeenCalledWith('ada', { range: 'last_30_days', project: undefined, editor: 'Neovim' });
    expect(main.querySelector('[data-testid="coding-today"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('Today: 3 hrs 12 mins');
    expect(barChart).toHaveBeenCalledOnce();
    const options = vi.mocked(barChart).mock.calls[0]![1];
    expect(options.stacked).toBe(true);
    expect(options.buckets).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    expect(options.series.map((s) => [s.label, s.values])).toEqual([
      ['reckon', [1, 0, 2.03]],
      ['site', [0.17, 0, 0]],
    ]);
    await vi.waitFor(() => expect(bar.querySelector('select[name="coding-user"]')?.textContent).toContain('bob'));
    expect(bar.querySelector('[aria-label="Date range"] button.on')?.textContent?.trim()).toBe('30 days');
  });

  test('all time starts at the first coding day; a project page filters by its project', async () => {
    const summaries = vi.fn(async () => answer(DAYS));
    const allTimeStats = vi.fn(async () => ({ data: { start: '2025-01-01T23:00:00Z' } }));
    const { ctx } = fakeContext('#/coding/ada/projects/reckon?range=all_time&branch=main', { summaries, allTimeStats, heartbeatUsers: async () => USERS });
    await codingProject(ctx);
    expect(allTimeStats).toHaveBeenCalledWith('ada');
    const [user, query] = summaries.mock.calls[0] as unknown as [string, Record<string, string>];
    expect(user).toBe('ada');
    expect(query).toMatchObject({ start: '2025-01-02', project: 'reckon', branch: 'main' });
    expect(query.end).toBe(todayIn('Europe/Berlin'));
  });

  test('a failed today leaves the rest; a failed summary shows the error; an unknown user the scope', async () => {
    const failing = fakeContext('#/coding/ada', {
      summaries: async () => answer(DAYS),
      statusBarToday: async () => {
        throw new ApiError(500, 'internal', 'boom');
      },
      heartbeatUsers: async () => USERS,
    });
    await coding(failing.ctx);
    expect(failing.main.querySelector('[data-testid="coding-today"]')?.textContent).toContain('unavailable');
    expect(failing.main.querySelector('[data-testid="coding-projects"]')).not.toBeNull();
    const broken = fakeContext('#/coding/ada', {
      summaries: async () => {
        throw new ApiError(503, 'store_unavailable', 'busy');
      },
      statusBarToday: async () => TODAY,
      heartbeatUsers: async () => USERS,
    });
    await coding(broken.ctx);
    expect(broken.main.querySelector('[role="alert"]')?.getAttribute('data-code')).toBe('store_unavailable');
    const unknown = fakeContext('#/coding/eve', {
      summaries: async () => {
        throw new ApiError(404, 'not_found', 'no user');
      },
      statusBarToday: async () => TODAY,
      heartbeatUsers: async () => USERS,
    });
    await coding(unknown.ctx);
    expect(unknown.main.querySelector('[data-testid="coding-unknown"]')?.textContent).toContain('--scope heartbeats:eve');
  });

  test('without a user: one opens at once, several are listed, none says how to start', async () => {
    const one = fakeContext('#/coding?range=this_week', { heartbeatUsers: async () => ({ users: [USERS.users[0]!] }) });
    await coding(one.ctx);
    expect(one.navigated).toEqual([{ page: 'coding', user: 'ada', params: { range: 'this_week' } }]);
    const several = fakeContext('#/coding', { heartbeatUsers: async () => USERS });
    await coding(several.ctx);
    expect([...several.main.querySelectorAll('[data-testid="coding-users"] tbody a')].map((a) => a.getAttribute('href'))).toEqual(['#/coding/ada', '#/coding/bob']);
    expect(several.main.querySelector('tr[data-user="bob"]')?.textContent).toContain('never');
    const none = fakeContext('#/coding', { heartbeatUsers: async () => ({ users: [] }) });
    await coding(none.ctx);
    expect(none.main.querySelector('[role="status"] h2')?.textContent).toBe('No heartbeats yet');
    expect(none.main.textContent).toContain('reckon keys add --source heartbeats --user NAME');
  });
});
