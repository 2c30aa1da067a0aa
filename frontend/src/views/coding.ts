// Coding time from WakaTime plugins: pick a user; a user's page with today's total as the
// editor's status bar shows it, the time per day stacked by project or language, and the
// top projects, languages, editors, systems, machines, categories and branches, each one
// a filter; and a project's page with its files, branches and languages.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import { ApiError, apiBase, type HeartbeatUsersAnswer, type SummariesAnswer } from '../api/client';
import { codingBy, codingRange, CODING_RANGES, dailyStacks, dayIn, hours, mergeItems, summariesPeriod, todayIn, topWithOther, type ItemList, type Share } from '../coding';
import type { ViewContext } from '../context';
import { ago, codingTime, count, percent } from '../format';
import { CODING_FILTERS, type CodingFilter, type Params } from '../route';
import { barChart } from '../ui/chart';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';
import { card } from './common';

/** Rows per top list, before the rest become "Other". */
export const TOP = 10;
/** Stacks per chart bar, before the rest become "Other". */
export const STACKS = 8;

/** What each filter is called on a chip and as a list heading. */
export const FILTER_LABELS: Record<CodingFilter, string> = {
  language: 'Language',
  editor: 'Editor',
  operating_system: 'Operating system',
  machine: 'Machine',
  category: 'Category',
  branch: 'Branch',
};

/** Where this dashboard's API lives, for the plugin settings it shows. */
function reckonUrl(): string {
  return apiBase() || window.location.origin;
}

/** How to get coding time in: a key per user, then the WakaTime plugin's two settings. */
export function howToSend(base: string, user = 'NAME'): TemplateResult {
  return html`<ol class="steps" data-testid="how-to-send">
    <li>
      Create a key for the user: <code>reckon keys add --source heartbeats --user ${user}</code>. It prints the key
      only once.
    </li>
    <li>
      Point a WakaTime plugin at <code>${base}/api/v1</code> with that key, in <code>~/.wakatime.cfg</code>:
      <pre class="command"><code>[settings]
api_url = ${base}/api/v1
api_key = KEY</code></pre>
    </li>
    <li>Write some code: the editor sends heartbeats every couple of minutes.</li>
  </ol>`;
}

/** Today's total, as fetched, or where that stands. */
export type TodayState = { state: 'loading' } | { state: 'ready'; seconds: number } | { state: 'failed'; error: unknown };

export interface CodingView {
  user: string;
  /** Set on a project's page. */
  project?: string;
  range: string;
  by: 'project' | 'language';
  filters: Partial<Record<CodingFilter, string>>;
  summaries: SummariesAnswer;
  /** None on a project's page. */
  today?: TodayState;
  base: string;
}

export interface CodingActions {
  /** This page with some params changed. */
  href(changes: Partial<Params>): string;
  /** A project's page, with this page's range and filters. */
  projectHref(project: string): string;
  /** The user's page, with this page's range and filters. */
  userHref: string;
  /** Draws the chart into its element (once). */
  mountChart(el: Element | undefined, stacks: ReturnType<typeof dailyStacks>): void;
}

/** The active filters of the params, in chip order. */
export function activeFilters(params: Params): Partial<Record<CodingFilter, string>> {
  const out: Partial<Record<CodingFilter, string>> = {};
  for (const key of CODING_FILTERS) if (params[key]) out[key] = params[key];
  return out;
}

/** "Today: 3 hrs 12 mins", like the editor's status bar. */
export function todayLine(today: TodayState): TemplateResult {
  const value =
    today.state === 'loading'
      ? html`<span class="muted">…</span>`
      : today.state === 'failed'
        ? html`<span class="muted" title=${today.error instanceof Error ? today.error.message : String(today.error)}>unavailable</span>`
        : html`<strong>${codingTime(today.seconds)}</strong>`;
  return html`<p class="statusbar" data-testid="coding-today" data-seconds=${today.state === 'ready' ? Math.floor(today.seconds) : nothing} aria-live="polite">
    Today: ${value}
  </p>`;
}

function chips(view: CodingView, actions: CodingActions): TemplateResult | typeof nothing {
  const entries = Object.entries(view.filters) as [CodingFilter, string][];
  if (entries.length === 0) return nothing;
  return html`<p class="chips" data-testid="coding-filters">
    <span class="muted">Filtered by</span>
    ${entries.map(
      ([key, value]) => html`<a class="chip" data-filter=${key} href=${actions.href({ [key]: undefined })} aria-label=${`Remove the filter ${FILTER_LABELS[key]}: ${value}`}>
        ${FILTER_LABELS[key]}: ${value} <span aria-hidden="true">×</span>
      </a>`,
    )}
    ${entries.length > 1
      ? html`<a href=${actions.href(Object.fromEntries(entries.map(([k]) => [k, undefined])))}>Clear all</a>`
      : nothing}
  </p>`;
}

/** A top list with shares: each name a link (to filter, or to a project), the rest as "Other". */
export function shareList(title: string, column: string, shares: Share[], testId: string, link?: (name: string) => string): TemplateResult {
  const { rows, other } = topWithOther(shares, TOP);
  const row = (s: Share, href?: string) => html`<tr data-name=${s.name}>
    <td>${href ? html`<a href=${href}>${s.name}</a>` : s.name}</td>
    <td class="num">${codingTime(s.total_seconds)}</td>
    <td class="num share"><span class="share-bar" style=${`width: ${Math.min(100, Math.max(0, s.percent)).toFixed(1)}%`}></span>${percent(s.percent)}</td>
  </tr>`;
  return html`<section class="panel" data-testid=${testId}>
    <h2>${title}</h2>
    ${shares.length === 0
      ? html`<p class="state empty-inline">None in this range.</p>`
      : html`<table class="data">
          <thead><tr><th>${column}</th><th class="num">Time</th><th class="num">Share</th></tr></thead>
          <tbody>
            ${rows.map((s) => row(s, link?.(s.name)))}
            ${other ? html`<tr data-name="" class="other"><td>${count(shares.length - rows.length)} more</td><td class="num">${codingTime(other.total_seconds)}</td><td class="num share">${percent(other.percent)}</td></tr>` : nothing}
          </tbody>
        </table>`}
  </section>`;
}

function chartPanel(view: CodingView, actions: CodingActions, list: ItemList, noun: string): TemplateResult {
  const days = view.summaries.data;
  const stacks = dailyStacks(days, list, STACKS);
  const total = days.reduce((n, d) => n + (d.grand_total?.total_seconds ?? 0), 0);
  const busy = days.filter((d) => (d.grand_total?.total_seconds ?? 0) > 0);
  const caption = `${codingTime(total)} on ${busy.length} ${busy.length === 1 ? 'day' : 'days'}, by ${noun}.`;
  const toggle = view.project
    ? nothing
    : html`<div class="segmented" role="group" aria-label="Stack the days by">
        ${(['project', 'language'] as const).map(
          (by) => html`<a class="${view.by === by ? 'on' : ''}" href=${actions.href({ by: by === 'project' ? undefined : by })} aria-current=${view.by === by ? 'true' : nothing}>By ${by}</a>`,
        )}
      </div>`;
  return html`<section class="panel" data-testid="coding-chart" data-total=${Math.floor(total)} data-by=${list} data-stacks=${stacks.stacks.map((s) => s.name).join('\n')}>
    <div class="panel-head">
      <h2>Coding time per day</h2>
      ${toggle}
    </div>
    <p class="caption">${caption} The axis counts hours.</p>
    <div class="chart" role="img" aria-label=${`Coding time per day, stacked by ${noun}: ${caption}`} ${ref((el) => actions.mountChart(el, stacks))}></div>
    <details>
      <summary>Show the numbers</summary>
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr><th>Day</th>${stacks.stacks.map((s) => html`<th class="num">${s.name}</th>`)}<th class="num">Total</th></tr>
          </thead>
          <tbody>
            ${busy.map((day) => {
              const i = days.indexOf(day);
              return html`<tr><td>${day.range?.date}</td>${stacks.stacks.map((s) => html`<td class="num">${codingTime(s.values[i])}</td>`)}<td class="num">${codingTime(day.grand_total.total_seconds)}</td></tr>`;
            })}
          </tbody>
        </table>
      </div>
      <p class="muted">Days without coding time are left out.</p>
    </details>
  </section>`;
}

function period(view: CodingView): string {
  const days = view.summaries.data;
  const first = days[0]?.range;
  const last = days[days.length - 1]?.range;
  const label = CODING_RANGES.find((r) => r.id === view.range)?.label ?? view.range;
  if (!first?.date || !last?.date) return label;
  const zone = first.timezone ? ` (${first.timezone})` : '';
  return first.date === last.date ? `${first.date}${zone}` : `From ${first.date} to ${last.date}${zone}`;
}

function nothingYet(view: CodingView, actions: CodingActions): TemplateResult {
  const filtered = Object.keys(view.filters).length > 0;
  return empty(
    'No heartbeats in this range',
    html`<p>
        ${view.project ? html`No coding time on <strong>${view.project}</strong> here. ` : nothing}
        ${filtered ? html`<a href=${actions.href(Object.fromEntries(CODING_FILTERS.map((k) => [k, undefined])))}>Remove the filters</a> or ` : nothing}
        <a href=${actions.href({ range: 'all_time' })}>show all time</a>.
        Coding time appears once an editor sends heartbeats: point a WakaTime plugin at <code>${view.base}/api/v1</code> with a key from
        <code>reckon keys add --source heartbeats --user ${view.user}</code>.
      </p>
      ${howToSend(view.base, view.user)}`,
  );
}

/** A user's page from their summaries; pure, so it is unit-tested. */
export function userPage(view: CodingView, actions: CodingActions): TemplateResult {
  const days = view.summaries.data;
  const total = view.summaries.cumulative_total?.seconds ?? 0;
  const heading = html`<h1>Coding time: ${view.user}</h1>
    ${view.today ? todayLine(view.today) : nothing}
    ${chips(view, actions)}`;
  if (total <= 0 && days.every((d) => (d.grand_total?.total_seconds ?? 0) <= 0)) return html`${heading}${nothingYet(view, actions)}`;
  const list = (key: ItemList) => mergeItems(days, key);
  const filter = (key: CodingFilter) => (view.filters[key] ? undefined : (name: string) => actions.href({ [key]: name }));
  const projects = list('projects');
  const languages = list('languages');
  return html`${heading}
    <p class="muted">${period(view)}</p>
    <section class="cards" aria-label="In the range" data-testid="coding-totals">
      ${card('Total', codingTime(total), undefined, 'coding-total')}
      ${card('Daily average', codingTime(view.summaries.daily_average?.seconds), undefined, 'coding-average')}
      ${card('Days coded', count(days.filter((d) => (d.grand_total?.total_seconds ?? 0) > 0).length), `of ${count(days.length)}`, 'coding-days')}
      ${card('Top project', projects[0]?.name ?? '–', undefined, 'coding-top-project')}
      ${card('Top language', languages[0]?.name ?? '–', undefined, 'coding-top-language')}
    </section>
    ${chartPanel(view, actions, view.by === 'language' ? 'languages' : 'projects', view.by)}
    <div class="columns">
      ${shareList('Projects', 'Project', projects, 'coding-projects', actions.projectHref)}
      ${shareList('Languages', 'Language', languages, 'coding-languages', filter('language'))}
    </div>
    <div class="columns">
      ${shareList('Editors', 'Editor', list('editors'), 'coding-editors', filter('editor'))}
      ${shareList('Operating systems', 'Operating system', list('operating_systems'), 'coding-operating-systems', filter('operating_system'))}
    </div>
    <div class="columns">
      ${shareList('Machines', 'Machine', list('machines'), 'coding-machines', filter('machine'))}
      ${shareList('Categories', 'Category', list('categories'), 'coding-categories', filter('category'))}
    </div>
    ${shareList('Branches', 'Branch', list('branches'), 'coding-branches', filter('branch'))}`;
}

/** A project's page from the user's summaries filtered to it; pure, so it is unit-tested. */
export function projectPage(view: CodingView, actions: CodingActions): TemplateResult {
  const days = view.summaries.data;
  const total = view.summaries.cumulative_total?.seconds ?? 0;
  const project = view.project!;
  const heading = html`<p class="crumbs"><a href=${actions.userHref}>${view.user}'s coding time</a> /</p>
    <h1>Project: ${project}</h1>
    ${chips(view, actions)}`;
  if (total <= 0 && days.every((d) => (d.grand_total?.total_seconds ?? 0) <= 0)) return html`${heading}${nothingYet(view, actions)}`;
  const filter = (key: CodingFilter) => (view.filters[key] ? undefined : (name: string) => actions.href({ [key]: name }));
  const files = mergeItems(days, 'entities');
  const branches = mergeItems(days, 'branches');
  return html`${heading}
    <p class="muted">${period(view)}</p>
    <section class="cards" aria-label="In the range" data-testid="coding-totals">
      ${card('Total', codingTime(total), undefined, 'coding-total')}
      ${card('Daily average', codingTime(view.summaries.daily_average?.seconds), undefined, 'coding-average')}
      ${card('Days coded', count(days.filter((d) => (d.grand_total?.total_seconds ?? 0) > 0).length), `of ${count(days.length)}`, 'coding-days')}
      ${card('Files', count(files.length), undefined, 'coding-file-count')}
      ${card('Branches', count(branches.length), undefined, 'coding-branch-count')}
    </section>
    ${chartPanel(view, actions, 'languages', 'language')}
    ${shareList('Files', 'File', files, 'coding-files')}
    <div class="columns">
      ${shareList('Branches', 'Branch', branches, 'coding-branches', filter('branch'))}
      ${shareList('Languages', 'Language', mergeItems(days, 'languages'), 'coding-languages', filter('language'))}
    </div>`;
}

/** The user is unknown, or the read token may not read their coding time. */
function unknownUser(user: string, base: string): TemplateResult {
  return html`<div class="state empty" role="status" data-code="not_found" data-testid="coding-unknown">
    <h2>No coding time of ${user} that you can read</h2>
    <p>
      If ${user} sends heartbeats, this read token's scopes do not cover them: sign in with a token made with
      <code>reckon tokens add --name NAME --scope heartbeats:${user}</code>.
    </p>
    ${howToSend(base, user)}
  </div>`;
}

/** `#/coding`: straight to the user when there is one, a list when there are several. */
async function pickUser(ctx: ViewContext, users: Promise<HeartbeatUsersAnswer>): Promise<void> {
  const base = reckonUrl();
  ctx.showControls(null);
  ctx.show(loading('users'));
  try {
    const list = (await users).users;
    if (list.length === 1) {
      ctx.navigate({ page: 'coding', user: list[0]!.name, params: ctx.route.params }, true);
      return;
    }
    if (list.length === 0) {
      ctx.show(html`<h1>Coding time</h1>${empty('No heartbeats yet', howToSend(base))}`);
      return;
    }
    ctx.show(html`<h1>Coding time</h1>
      <table class="data wide" data-testid="coding-users">
        <thead><tr><th>User</th><th>Time zone</th><th>Last heartbeat</th></tr></thead>
        <tbody>
          ${list.map(
            (u) => html`<tr data-user=${u.name}>
              <td><a href=${ctx.href({}, { page: 'coding', user: u.name, params: ctx.route.params })}>${u.name}</a></td>
              <td>${u.timezone}</td>
              <td title=${u.last_heartbeat_at ?? ''}>${u.last_heartbeat_at ? ago(u.last_heartbeat_at) : 'never'}</td>
            </tr>`,
          )}
        </tbody>
      </table>`);
  } catch (error) {
    ctx.show(failure(error, () => void pickUser(ctx, ctx.api.heartbeatUsers())));
  }
}

async function summaryPage(ctx: ViewContext, user: string, project: string | undefined, users: Promise<HeartbeatUsersAnswer>): Promise<void> {
  const params = ctx.route.params;
  const range = codingRange(params);
  const filters = activeFilters(params);
  const base = reckonUrl();
  ctx.showControls(controls(ctx, { codingRange: true, codingUser: [] }));
  void users.then((a) => ctx.showControls(controls(ctx, { codingRange: true, codingUser: a.users.map((u) => u.name) }))).catch(() => undefined);
  ctx.show(loading(project ? `the coding time on ${project}` : `${user}'s coding time`));
  // Today's total comes from the status bar endpoint, asked at once beside the summaries.
  const todayAnswer = project ? undefined : ctx.api.statusBarToday(user);
  todayAnswer?.catch(() => undefined);
  const reset = ctx.href(Object.fromEntries([...CODING_FILTERS, 'range', 'by'].map((k) => [k, undefined])));
  let summaries: SummariesAnswer;
  try {
    // Days are the user's: their time zone says which day is today.
    const preset = CODING_RANGES.find((r) => r.id === range);
    const zone = preset?.months || range === 'all_time' ? (await users.catch(() => undefined))?.users.find((u) => u.name === user)?.timezone : undefined;
    const start = range === 'all_time' ? dayIn((await ctx.api.allTimeStats(user)).data?.start, zone) : undefined;
    summaries = await ctx.api.summaries(user, { ...summariesPeriod(range, todayIn(zone), start), project, ...filters });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
      ctx.show(html`<h1>Coding time: ${user}</h1>${unknownUser(user, base)}`);
    } else {
      ctx.show(failure(error, () => void summaryPage(ctx, user, project, users), reset));
    }
    return;
  }
  const view: CodingView = { user, project, range, by: codingBy(params), filters, summaries, base, today: project ? undefined : { state: 'loading' } };
  const keep = { ...params, by: undefined };
  const actions: CodingActions = {
    href: (changes) => ctx.href(changes),
    projectHref: (name) => ctx.href({}, { page: 'coding-project', user, project: name, params: keep }),
    userHref: ctx.href({}, { page: 'coding', user, params }),
    mountChart(el, stacks) {
      if (!el || (el as HTMLElement).dataset.mounted) return;
      (el as HTMLElement).dataset.mounted = 'yes';
      ctx.onCleanup(
        barChart(el as HTMLElement, {
          buckets: stacks.days,
          stepDays: 1,
          stacked: true,
          series: stacks.stacks.map((s) => ({ label: s.name, color: s.color, values: s.values.map(hours) })),
        }),
      );
    },
  };
  const draw = () => ctx.show(project ? projectPage(view, actions) : userPage(view, actions));
  draw();
  if (todayAnswer) {
    try {
      const answer = await todayAnswer;
      view.today = { state: 'ready', seconds: answer.data?.grand_total?.total_seconds ?? 0 };
    } catch (error) {
      view.today = { state: 'failed', error };
    }
    draw();
  }
}

/** `#/coding` and `#/coding/USER`. */
export async function coding(ctx: ViewContext): Promise<void> {
  const users = ctx.api.heartbeatUsers();
  users.catch(() => undefined);
  const user = ctx.route.user;
  if (!user) return pickUser(ctx, users);
  return summaryPage(ctx, user, undefined, users);
}

/** `#/coding/USER/projects/PROJECT`. */
export async function codingProject(ctx: ViewContext): Promise<void> {
  const users = ctx.api.heartbeatUsers();
  users.catch(() => undefined);
  return summaryPage(ctx, ctx.route.user ?? '', ctx.route.project ?? '', users);
}
