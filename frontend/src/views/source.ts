// A server-events source: game servers such as DCSS that submit milestones and finished
// games. Events per day stacked by type, milestones by type, games by outcome, the top
// players, and one UTC day's events in the order Reckon accepted them.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import { ApiError, apiBase, type DayCount, type KeyCount, type PlayerCount, type ServerDay, type ServerEvent, type SourceDayCount, type SourceStats } from '../api/client';
import type { ViewContext } from '../context';
import { count, utcTime } from '../format';
import { dayStartMs, daysBetween, isoDay, resolveRange } from '../route';
import { barChart } from '../ui/chart';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';
import { card } from './common';

/** Rows of a day drawn at once; more are one click away. */
export const DAY_ROWS = 500;
/** Players per top list. */
const TOP = 10;
/** Sources that hold GitHub's events, never server events. */
export const GITHUB_SOURCES = ['github', 'github-sync'];

const TYPE_COLORS: Record<string, string> = { milestone: '#1f6feb', game: '#8250df' };
const OTHER_COLORS = ['#1a7f37', '#bf8700', '#cf222e', '#0a7ea4', '#57606a'];
const TYPE_ORDER = ['milestone', 'game'];

/** The sources with stored events that may be server events: all but GitHub's, by name. */
export function serverSources(days: DayCount[]): string[] {
  return [...new Set(days.map((d) => d.source))].filter((s) => !GITHUB_SOURCES.includes(s)).sort();
}

export interface TypeSeries {
  type: string;
  color: string;
  values: number[];
  total: number;
}

/**
 * Events per day from `from` to `to` (inclusive, zero-filled) with one series per event
 * type, servers added up: milestones, then games, then other types by name.
 */
export function dailyByType(days: SourceDayCount[], from: string, to: string): { buckets: string[]; types: TypeSeries[] } {
  const buckets = daysBetween(from, to);
  const index = new Map(buckets.map((d, i) => [d, i]));
  const rank = (t: string) => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : TYPE_ORDER.length);
  const names = [...new Set(days.map((d) => d.type))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  let other = 0;
  const types = names.map((type) => ({
    type,
    color: TYPE_COLORS[type] ?? OTHER_COLORS[other++ % OTHER_COLORS.length]!,
    values: buckets.map(() => 0),
    total: 0,
  }));
  const byName = new Map(types.map((t) => [t.type, t]));
  for (const d of days) {
    const series = byName.get(d.type)!;
    series.total += d.count;
    const i = index.get(d.day);
    if (i !== undefined) series.values[i]! += d.count;
  }
  return { buckets, types };
}

/** An event field as text: strings as they are, numbers and booleans printed, else empty. */
export function field(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * What happened, in a line: a milestone's `milestone` text; a game's `tmsg` (else its
 * outcome `ktyp`) with its score `sc`; for other types whichever of those they carry.
 */
export function eventSummary(event: Pick<ServerEvent, 'type' | 'data'>): string {
  const data = event.data ?? {};
  const score = field(data, 'sc');
  const points = score === '' ? '' : /^\d+$/.test(score) ? count(Number(score)) : score;
  if (event.type === 'milestone') return field(data, 'milestone') || field(data, 'type');
  if (event.type === 'game' || field(data, 'ktyp')) {
    const what = field(data, 'tmsg') || field(data, 'ktyp');
    if (!points) return what;
    return what ? `${what} (score ${points})` : `score ${points}`;
  }
  return field(data, 'milestone') || field(data, 'tmsg');
}

/** Where this dashboard's API lives, for the commands it shows. */
function reckonUrl(): string {
  return apiBase() || window.location.origin;
}

/** How an operator gets events into a source: a key per server, then POST or ship. */
export function howToSend(source: string, base: string): TemplateResult {
  const example = `{"type":"milestone","src":"SERVER","data":{"name":"Blork","type":"uniq","milestone":"killed Sigmund."}}`;
  return html`<ol class="steps" data-testid="how-to-send">
    <li>
      Create a key for each game server:
      <code>reckon keys add --source ${source} --src SERVER</code>. It prints the key, starting with
      <code>rk_</code>, only once.
    </li>
    <li>
      Have the server post its events to <code>${base}/submit</code>, the key in <code>Authorization</code>:
      <pre class="command"><code>curl ${base}/submit -H 'Authorization: KEY' -H 'Content-Type: application/json' -d '${example}'</code></pre>
      Finished games are <code>"type":"game"</code> with <code>name</code>, <code>ktyp</code>, <code>sc</code> and <code>tmsg</code> in <code>data</code>.
    </li>
    <li>
      Or follow the server's xlog files from its host:
      <pre class="command"><code>reckon ship --src SERVER --key KEY --url ${base} saves/logfile saves/milestones</code></pre>
    </li>
  </ol>`;
}

/** The configuration a source needs to take server events and show them here. */
function configSnippet(source: string): TemplateResult {
  return html`<pre class="command"><code>[sources.${source}]
auth = "api-key"
srcs = ["cpo"]        # the servers that may submit
public = true         # readable with any read token, or none</code></pre>`;
}

/**
 * No source of that name takes server events, or the read token may not read it: Reckon
 * answers both with 404 `unknown_source`, so a private source's existence is not leaked.
 */
export function unknownSource(source: string, others: string[], hrefOf: (source: string) => string): TemplateResult {
  return html`<div class="state empty" role="status" data-code="unknown_source" data-testid="source-unknown">
    <h2>${source} takes no server events you can read</h2>
    <p>
      If the source exists and is not public, this read token's scopes do not cover it: sign in with a token made with
      <code>reckon tokens add --name NAME --scope source:${source}</code>.
    </p>
    <p>Reckon takes game-server events for sources configured with <code>auth = "api-key"</code>, e.g.:</p>
    ${configSnippet(source)}
    ${others.length > 0
      ? html`<p>
          Other sources with stored events:
          ${others.map((s, i) => html`${i > 0 ? ', ' : ''}<a href=${hrefOf(s)}>${s}</a>`)}.
        </p>`
      : nothing}
  </div>`;
}

/** A day's events as fetched, or where that stands. */
export type DayState =
  | { state: 'loading' }
  | { state: 'ready'; answer: ServerDay; shown: number }
  | { state: 'failed'; error: unknown };

export interface SourceView {
  source: string;
  stats: SourceStats;
  /** The chart's first and last day. */
  from: string;
  to: string;
  day?: string;
  dayState?: DayState;
  base: string;
}

export interface SourceActions {
  /** Draws the chart into its element (once). */
  mountChart(el: Element | undefined, series: ReturnType<typeof dailyByType>): void;
  pickDay(day: string): void;
  showMore(): void;
  retryDay(): void;
  allTimeHref: string;
  eventsHref: string;
}

function keyTable(title: string, column: string, rows: KeyCount[], none: string, testId: string): TemplateResult {
  return html`<section class="panel" data-testid=${testId}>
    <h2>${title}</h2>
    ${rows.length === 0
      ? html`<p class="state empty-inline">${none}</p>`
      : html`<table class="data">
          <thead><tr><th>${column}</th><th class="num">Count</th></tr></thead>
          <tbody>
            ${rows.map((r) => html`<tr data-key=${r.key}><td>${r.key}</td><td class="num">${count(r.count)}</td></tr>`)}
          </tbody>
        </table>`}
  </section>`;
}

function playerTable(title: string, rows: PlayerCount[], first: 'games' | 'wins', none: string, testId: string): TemplateResult {
  const second = first === 'games' ? 'wins' : 'games';
  const label = { games: 'Games', wins: 'Wins' };
  return html`<section class="panel" data-testid=${testId}>
    <h2>${title}</h2>
    ${rows.length === 0
      ? html`<p class="state empty-inline">${none}</p>`
      : html`<table class="data">
          <thead><tr><th>Player</th><th class="num">${label[first]}</th><th class="num">${label[second]}</th></tr></thead>
          <tbody>
            ${rows.map(
              (p) => html`<tr data-player=${p.name}><td>${p.name}</td><td class="num">${count(p[first])}</td><td class="num">${count(p[second])}</td></tr>`,
            )}
          </tbody>
        </table>`}
  </section>`;
}

function chartPanel(view: SourceView, actions: SourceActions, series: ReturnType<typeof dailyByType>, total: number): TemplateResult {
  const busy = series.buckets.filter((_, i) => series.types.some((t) => t.values[i]! > 0));
  const parts = series.types.map((t) => `${count(t.total)} ${t.type === 'milestone' ? 'milestones' : t.type === 'game' ? 'games' : t.type}`);
  const caption = `${count(total)} events on ${busy.length} ${busy.length === 1 ? 'day' : 'days'} (${parts.join(', ')}); click a bar to list that day.`;
  return html`<section class="panel" data-testid="source-chart" data-total=${total} data-types=${series.types.map((t) => t.type).join(' ')}>
    <h2>Events per day</h2>
    <p class="caption">${caption}</p>
    <div class="chart" role="img" aria-label=${`${view.source} events per day, stacked by type: ${caption}`} ${ref((el) => actions.mountChart(el, series))}></div>
    <details>
      <summary>Show the numbers</summary>
      <table class="data">
        <thead>
          <tr><th>Day</th>${series.types.map((t) => html`<th class="num">${t.type}</th>`)}<th class="num">Total</th></tr>
        </thead>
        <tbody>
          ${busy.map((day) => {
            const i = series.buckets.indexOf(day);
            const values = series.types.map((t) => t.values[i]!);
            return html`<tr><td>${day}</td>${values.map((v) => html`<td class="num">${count(v)}</td>`)}<td class="num">${count(values.reduce((a, b) => a + b, 0))}</td></tr>`;
          })}
        </tbody>
      </table>
      <p class="muted">Days without events are left out.</p>
    </details>
  </section>`;
}

/** The events of the picked day: time, server, type, player and what happened. */
export function dayPanel(view: SourceView, actions: SourceActions): TemplateResult {
  const day = view.day!;
  const state = view.dayState ?? { state: 'loading' };
  let body: TemplateResult;
  if (state.state === 'loading') {
    body = loading(`the events of ${day}`);
  } else if (state.state === 'failed') {
    body = failure(state.error, actions.retryDay);
  } else if (state.answer.events.length === 0) {
    body = html`<p class="state empty-inline">No ${view.source} events were accepted on ${day} (UTC).</p>`;
  } else {
    const events = state.answer.events;
    const rows = events.slice(0, state.shown);
    const rest = events.length - rows.length;
    body = html`<p class="caption" data-testid="source-day-caption">
        ${count(events.length)}${state.answer.nextAfter ? '+' : ''} ${events.length === 1 ? 'event' : 'events'} accepted on ${day} (UTC), in the order Reckon accepted them.
        ${rest > 0 ? html`Showing the first ${count(rows.length)}; ${count(rest)} more.` : nothing}
      </p>
      <div class="table-scroll" role="region" aria-label=${`${view.source} events of ${day}`} tabindex="0">
        <table class="data wide">
          <thead><tr><th>Time (UTC)</th><th>Server</th><th>Type</th><th>Player</th><th>What happened</th></tr></thead>
          <tbody>
            ${rows.map(
              (e) => html`<tr data-id=${e.id} data-type=${e.type}>
                <td class="mono" title=${new Date(e.ts).toISOString()}>${utcTime(e.ts)}</td>
                <td>${e.src}</td>
                <td>${e.type}</td>
                <td>${field(e.data, 'name')}</td>
                <td>${eventSummary(e)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${rest > 0
        ? html`<p><button type="button" @click=${actions.showMore}>Show ${count(Math.min(rest, DAY_ROWS))} more</button></p>`
        : nothing}
      ${state.answer.nextAfter
        ? html`<p class="muted">Reckon answers with at most ${count(events.length)} events of a day at once; later ones of ${day} are not listed here. The follow API (<code>GET /api/v1/sources/${view.source}/events?after=${state.answer.nextAfter}</code>) has them all.</p>`
        : nothing}`;
  }
  return html`<section class="panel" data-testid="source-day" data-day=${day}>
    <h2>${view.source} on ${day}</h2>
    <form class="inline" @submit=${(e: Event) => e.preventDefault()} @change=${(e: Event) => {
      const value = (e.target as HTMLInputElement).value;
      if (value) actions.pickDay(value);
    }}>
      <label>Day (UTC) <input type="date" name="day" .value=${day} /></label>
    </form>
    ${body}
  </section>`;
}

/** The whole page for a source's stats and picked day; pure, so it is unit-tested. */
export function page(view: SourceView, actions: SourceActions): TemplateResult {
  const { stats } = view;
  const series = dailyByType(stats.days, view.from, view.to);
  const total = stats.days.reduce((n, d) => n + d.count, 0);
  const ofType = (type: string) => stats.days.filter((d) => d.type === type).reduce((n, d) => n + d.count, 0);
  const servers = [...new Set(stats.days.map((d) => d.src))].sort();
  const wins = stats.games.find((g) => g.key === 'winning')?.count ?? 0;
  const heading = html`<h1>Server events: ${view.source}</h1>`;
  if (total === 0) {
    return html`${heading}
      ${empty(
        `No ${view.source} events in this range`,
        html`<p>Events appear here once game servers send them. <a href=${actions.allTimeHref}>Show all time</a>.</p>
          ${howToSend(view.source, view.base)}`,
      )}
      ${view.day ? dayPanel(view, actions) : nothing}`;
  }
  return html`${heading}
    <p class="muted">
      From ${view.from} to ${view.to} (UTC), by the day Reckon accepted each event.
      <a href=${actions.eventsHref}>Stored events of ${view.source}</a>
    </p>
    <section class="cards" aria-label="In the range" data-testid="source-totals">
      ${card('Events', count(total), undefined, 'source-events')}
      ${card('Milestones', count(ofType('milestone')), undefined, 'source-milestone-count')}
      ${card('Games', count(ofType('game')), undefined, 'source-game-count')}
      ${card('Wins', count(wins), 'games with ktyp winning', 'source-wins')}
      ${card('Servers', count(servers.length), servers.join(', '), 'source-servers')}
    </section>
    ${chartPanel(view, actions, series, total)}
    <div class="columns">
      ${keyTable('Milestones by type', 'Type', stats.milestones, 'No milestones in this range.', 'source-milestones')}
      ${keyTable('Games by outcome', 'Outcome (ktyp)', stats.games, 'No finished games in this range.', 'source-games')}
    </div>
    <div class="columns">
      ${playerTable('Top players by games', stats.top_by_games, 'games', 'No finished games in this range.', 'top-by-games')}
      ${playerTable('Top players by wins', stats.top_by_wins, 'wins', 'No player won a game in this range.', 'top-by-wins')}
    </div>
    ${view.day ? dayPanel(view, actions) : nothing}`;
}

export async function source(ctx: ViewContext): Promise<void> {
  const params = ctx.route.params;
  const range = resolveRange(params);
  const name = ctx.route.source;
  const base = reckonUrl();
  const hrefOf = (s: string) => ctx.href({ day: undefined }, { ...ctx.route, source: s });
  ctx.showControls(controls(ctx, { range: true, sourcePage: [] }));
  if (!name) {
    ctx.show(loading('sources'));
    try {
      const sources = serverSources((await ctx.api.eventDays({})).days);
      if (sources.length > 0) {
        ctx.navigate({ ...ctx.route, source: sources[0] }, true);
        return;
      }
      ctx.show(
        empty(
          'No server events yet',
          html`<p>Game servers such as Dungeon Crawl Stone Soup send milestones and finished games to a source configured with <code>auth = "api-key"</code> in <code>reckon.toml</code>:</p>
            ${configSnippet('dcss')}
            ${howToSend('dcss', base)}
            <p>Then open <code>#/sources/dcss</code>, or pick the source above.</p>`,
        ),
      );
    } catch (error) {
      ctx.show(failure(error, () => void source(ctx)));
    }
    return;
  }

  ctx.show(loading(`${name}'s server events`));
  const listed = ctx.api
    .eventDays(range)
    .then((answer) => serverSources(answer.days))
    .catch(() => [] as string[]);
  void listed.then((sources) => ctx.showControls(controls(ctx, { range: true, sourcePage: sources })));
  let stats: SourceStats;
  try {
    stats = await ctx.api.sourceStats(name, range, TOP);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unknown_source') {
      const others = (await listed).filter((s) => s !== name);
      ctx.show(html`<h1>Server events: ${name}</h1>${unknownSource(name, others, hrefOf)}`);
    } else {
      ctx.show(failure(error, () => void source(ctx), ctx.href({ from: undefined, to: undefined, range: undefined, day: undefined })));
    }
    return;
  }

  const seen = [...new Set(stats.days.map((d) => d.day))].sort();
  const from = range.from ?? seen[0] ?? isoDay(new Date());
  const to = range.to ?? seen[seen.length - 1] ?? from;
  const day = (params.day && dayStartMs(params.day) !== undefined ? params.day : undefined) ?? seen[seen.length - 1];
  const view: SourceView = { source: name, stats, from, to, day, base };
  const actions: SourceActions = {
    mountChart(el, series) {
      if (!el || (el as HTMLElement).dataset.mounted) return;
      (el as HTMLElement).dataset.mounted = 'yes';
      ctx.onCleanup(
        barChart(el as HTMLElement, {
          buckets: series.buckets,
          stepDays: 1,
          stacked: true,
          series: series.types.map((t) => ({ label: t.type, color: t.color, values: t.values })),
          onPick: (i) => {
            const picked = series.buckets[i];
            if (picked) actions.pickDay(picked);
          },
        }),
      );
    },
    pickDay(picked) {
      ctx.navigate({ ...ctx.route, params: { ...params, day: picked } });
    },
    showMore() {
      if (view.dayState?.state === 'ready') {
        view.dayState = { ...view.dayState, shown: view.dayState.shown + DAY_ROWS };
        draw();
      }
    },
    retryDay() {
      void loadDay();
    },
    allTimeHref: ctx.href({ range: 'all', from: undefined, to: undefined }),
    eventsHref: ctx.href({}, { page: 'events', params: { source: name, day, range: params.range, from: params.from, to: params.to } }),
  };
  const draw = () => ctx.show(page(view, actions));
  const loadDay = async () => {
    if (!day) return;
    view.dayState = { state: 'loading' };
    draw();
    try {
      const answer = await ctx.api.serverDay(name, dayStartMs(day)!);
      view.dayState = { state: 'ready', answer, shown: DAY_ROWS };
    } catch (error) {
      view.dayState = { state: 'failed', error };
    }
    draw();
  };
  draw();
  await loadDay();
}
