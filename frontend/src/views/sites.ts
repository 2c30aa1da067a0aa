// Page views of sites (Plausible's tracker, beacons, live WebSocket views): the list of
// sites, and a site's page with its views per bucket beside one of the two unique counts,
// the totals and the last five minutes, the top pages, referrers, sources and entry pages
// (each one a filter), and what was filtered out as bots. While it is open it follows the
// site's live event stream and re-reads on each burst of views; no polling.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import { ApiError, apiBase, type RankedViews, type SiteItem, type SiteNow, type SiteStats, type ViewInterval } from '../api/client';
import type { ViewContext } from '../context';
import { count } from '../format';
import {
  chartColumns,
  dropRows,
  followLive,
  isAllTime,
  MAX_BUCKETS,
  siteFilters,
  siteInterval,
  statsQuery,
  stepDays,
  trimLeading,
  uniqueBy,
  UNIQUE_LABELS,
  UNIQUE_NOTES,
  ORIGIN_LABELS,
  ORIGIN_NOTES,
  viewOrigin,
  type LiveState,
  type UniqueBy,
  type ViewOrigin,
  type ViewColumns,
} from '../pageviews';
import { SITE_FILTERS, type Params, type SiteFilter } from '../route';
import { barChart } from '../ui/chart';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';
import { card } from './common';

/** Rows per top list. */
export const TOP = 10;
/** How long a burst of live views settles before the page reads again. */
export const LIVE_DEBOUNCE_MS = 200;

export const VIEW_COLORS = { views: '#1f6feb', unique: '#8250df' };

/** What each filter is called on a chip. */
export const SITE_FILTER_LABELS: Record<SiteFilter, string> = {
  page: 'Page',
  referrer: 'Referrer',
  source: 'Source',
};

/** The last five minutes, as fetched, or where that stands. */
export type NowState = { state: 'loading' } | { state: 'ready'; now: SiteNow } | { state: 'failed'; error: unknown };

export interface SiteView {
  site: string;
  stats: SiteStats;
  now: NowState;
  by: UniqueBy;
  /** Which views: both origins, or one. */
  origin: ViewOrigin;
  /** The interval of the series shown. */
  interval: ViewInterval;
  /** The interval asked for, when its series would be too long and a coarser one is shown. */
  asked?: ViewInterval;
  /** All time: the chart starts at the first bucket with views. */
  allTime?: boolean;
  filters: Partial<Record<SiteFilter, string>>;
  live: LiveState;
  base: string;
}

export interface SiteActions {
  /** This page with some params changed. */
  href(changes: Partial<Params>): string;
  /** Draws (or redraws, when the numbers changed) the chart into its element. */
  mountChart(el: Element | undefined, columns: ViewColumns, stepDays: number): void;
}

/** How to get views in: register the site, then the tracker or a beacon. */
export function howToTrack(base: string, site = 'example.com'): TemplateResult {
  return html`<ol class="steps" data-testid="how-to-track">
    <li>Register the site and the origins its pages send from: <code>reckon sites add ${site} --origin https://${site}</code>.</li>
    <li>
      Add Plausible's tracker to its pages:
      <pre class="command"><code>&lt;script defer data-domain="${site}" src="${base}/js/script.js"&gt;&lt;/script&gt;</code></pre>
      or the npm package <code>@plausible-analytics/tracker</code> with <code>endpoint: '${base}/api/event'</code>, or a beacon:
      <code>${base}/api/v1/beacon?site=${site}&amp;p=/path</code>.
    </li>
  </ol>`;
}

/** The live indicator: a dot while the stream is open. */
export function liveBadge(state: LiveState): TemplateResult {
  const label = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : 'offline';
  const title =
    state === 'live'
      ? 'New views update this page as they arrive.'
      : state === 'connecting'
        ? 'Connecting to the live stream…'
        : 'The live stream is closed; this page shows the numbers as last read.';
  return html`<span class="live-badge ${state}" data-testid="site-live" data-state=${state} title=${title} role="status">${label}</span>`;
}

function chips(view: SiteView, actions: SiteActions): TemplateResult | typeof nothing {
  const entries = Object.entries(view.filters) as [SiteFilter, string][];
  if (entries.length === 0) return nothing;
  return html`<p class="chips" data-testid="site-filters">
    <span class="muted">Filtered by</span>
    ${entries.map(
      ([key, value]) => html`<a class="chip" data-filter=${key} href=${actions.href({ [key]: undefined })} aria-label=${`Remove the filter ${SITE_FILTER_LABELS[key]}: ${value}`}>
        ${SITE_FILTER_LABELS[key]}: ${value} <span aria-hidden="true">×</span>
      </a>`,
    )}
    ${entries.length > 1 ? html`<a href=${actions.href(Object.fromEntries(entries.map(([k]) => [k, undefined])))}>Clear all</a>` : nothing}
  </p>`;
}

/** A top list: each name a link that filters by it (unless that filter is set already). */
export function rankedTable(title: string, column: string, rows: RankedViews[], testId: string, by: UniqueBy, link?: (name: string) => string, sortBy: 'views' | 'entries' = 'views'): TemplateResult {
  const cols: { key: 'views' | 'entries' | UniqueBy; label: string }[] =
    sortBy === 'entries'
      ? [
          { key: 'entries', label: 'Entries' },
          { key: 'views', label: 'Views' },
        ]
      : [
          { key: 'views', label: 'Views' },
          { key: by, label: by === 'uniques' ? 'Unique' : 'Visitors' },
        ];
  return html`<section class="panel" data-testid=${testId}>
    <h2>${title}</h2>
    ${rows.length === 0
      ? html`<p class="state empty-inline">None in this range.</p>`
      : html`<table class="data">
          <thead><tr><th>${column}</th>${cols.map((c) => html`<th class="num">${c.label}</th>`)}</tr></thead>
          <tbody>
            ${rows.map((r) => {
              const href = link?.(r.name);
              return html`<tr data-name=${r.name}>
                <td class="name">${href ? html`<a href=${href} title=${`Show only views with ${column.toLowerCase()} ${r.name}`}>${r.name}</a>` : r.name}</td>
                ${cols.map((c) => html`<td class="num">${count(r[c.key])}</td>`)}
              </tr>`;
            })}
          </tbody>
        </table>`}
  </section>`;
}

function chartPanel(view: SiteView, actions: SiteActions): TemplateResult {
  const columns = chartColumns(view.allTime ? trimLeading(view.stats.series) : view.stats.series, view.by);
  const step = stepDays(view.interval);
  const views = view.stats.totals.views;
  const unique = view.stats.totals[view.by];
  const caption = `${count(views)} views and ${count(unique)} ${UNIQUE_LABELS[view.by]} in ${columns.buckets.length} ${view.interval === 'day' ? 'days' : `${view.interval}s`}.`;
  const toggle = html`<div class="segmented" role="group" aria-label="Unique views by">
    ${(['uniques', 'visitors'] as const).map(
      (by) => html`<a
        class=${view.by === by ? 'on' : ''}
        href=${actions.href({ uniques: by === 'uniques' ? undefined : by })}
        aria-current=${view.by === by ? 'true' : nothing}
        title=${UNIQUE_NOTES[by]}
        data-uniques=${by}
        >${UNIQUE_LABELS[by]}</a
      >`,
    )}
  </div>`;
  const origins = html`<div class="segmented" role="group" aria-label="Views from">
    ${(['all', 'script', 'log'] as const).map(
      (origin) => html`<a
        class=${view.origin === origin ? 'on' : ''}
        href=${actions.href({ origin: origin === 'all' ? undefined : origin })}
        aria-current=${view.origin === origin ? 'true' : nothing}
        title=${ORIGIN_NOTES[origin]}
        data-origin=${origin}
        >${ORIGIN_LABELS[origin]}</a
      >`,
    )}
  </div>`;
  return html`<section class="panel" data-testid="site-chart" data-uniques=${view.by} data-origin=${view.origin} data-views=${views} data-unique=${unique}>
    <div class="panel-head">
      <h2>Views per ${view.interval}</h2>
      ${origins} ${toggle}
    </div>
    <p class="caption">${caption} ${UNIQUE_NOTES[view.by]}</p>
    ${view.asked
      ? html`<p class="muted" data-testid="site-interval-note">
          ${view.asked === 'hour' ? 'Hours' : `${view.asked[0]!.toUpperCase()}${view.asked.slice(1)}s`} would make more than ${count(MAX_BUCKETS)} bars in this
          range, so this shows ${view.interval}s. Pick a shorter range for ${view.asked}s.
        </p>`
      : nothing}
    <div class="chart" role="img" aria-label=${`Views per ${view.interval}: ${caption}`} ${ref((el) => actions.mountChart(el, columns, step))}></div>
    <details>
      <summary>Show the numbers</summary>
      <div class="table-scroll">
        <table class="data">
          <thead><tr><th>${view.interval === 'hour' ? 'Hour (UTC)' : view.interval === 'week' ? 'Week of' : view.interval === 'month' ? 'Month' : 'Day'}</th><th class="num">Views</th><th class="num">${UNIQUE_LABELS[view.by]}</th></tr></thead>
          <tbody>
            ${columns.buckets.map((b, i) => (columns.views[i]! > 0 ? html`<tr><td>${b}</td><td class="num">${count(columns.views[i])}</td><td class="num">${count(columns.unique[i])}</td></tr>` : nothing))}
          </tbody>
        </table>
      </div>
      <p class="muted">Buckets without views are left out.</p>
    </details>
  </section>`;
}

function nowCards(now: NowState): TemplateResult {
  if (now.state === 'ready') {
    return html`${card('Visitors now', count(now.now.visitors), 'in the last 5 minutes', 'site-now-visitors')}
    ${card('Views now', count(now.now.views), 'in the last 5 minutes', 'site-now-views')}`;
  }
  const value = now.state === 'loading' ? '…' : 'unavailable';
  return html`${card('Visitors now', value, 'in the last 5 minutes', 'site-now-visitors')} ${card('Views now', value, 'in the last 5 minutes', 'site-now-views')}`;
}

function dropped(view: SiteView): TemplateResult {
  const rows = dropRows(view.stats.dropped);
  const total = rows.reduce((n, r) => n + r.count, 0);
  return html`<section class="panel" data-testid="site-dropped" data-total=${total}>
    <h2>Filtered out</h2>
    <p class="caption">Hits not counted as views in this range, by reason (before the filters above).</p>
    <table class="data">
      <thead><tr><th>Reason</th><th class="num">Hits</th></tr></thead>
      <tbody>
        ${rows.map((r) => html`<tr data-reason=${r.reason}><td>${r.label}</td><td class="num">${count(r.count)}</td></tr>`)}
      </tbody>
    </table>
  </section>`;
}

function period(stats: SiteStats): string {
  const from = stats.from.slice(0, 10);
  // `to` is exclusive; a midnight `to` ends the day before.
  const end = new Date(Date.parse(stats.to) - 1);
  const to = Number.isNaN(end.getTime()) ? stats.to.slice(0, 10) : end.toISOString().slice(0, 10);
  return from === to ? `${from} (UTC)` : `From ${from} to ${to} (UTC)`;
}

/** A site's page from its stats; pure, so it is unit-tested. */
export function sitePage(view: SiteView, actions: SiteActions): TemplateResult {
  const { stats } = view;
  const t = stats.totals;
  const filter = (key: SiteFilter) => (view.filters[key] ? undefined : (name: string) => actions.href({ [key]: name }));
  const heading = html`<div class="panel-head">
      <h1>Page views: ${view.site}</h1>
      ${liveBadge(view.live)}
    </div>
    ${chips(view, actions)}
    <p class="muted">${view.allTime ? 'All time (UTC)' : period(stats)}</p>`;
  const cards = html`<section class="cards" aria-label="In the range" data-testid="site-totals" data-views=${t.views}>
    ${card('Views', count(t.views), undefined, 'site-total-views')}
    ${card(UNIQUE_LABELS.uniques, count(t.uniques), undefined, 'site-total-uniques')}
    ${card(UNIQUE_LABELS.visitors, count(t.visitors), undefined, 'site-total-visitors')}
    ${card('Entries', count(t.entries), 'visits begun', 'site-total-entries')}
    ${nowCards(view.now)}
  </section>`;
  if (t.views === 0) {
    const filtered = Object.keys(view.filters).length > 0;
    return html`${heading}${cards}
      ${empty(
        'No views in this range',
        html`<p>
            ${filtered ? html`<a href=${actions.href(Object.fromEntries(SITE_FILTERS.map((k) => [k, undefined])))}>Remove the filters</a> or ` : nothing}
            <a href=${actions.href({ range: 'all', from: undefined, to: undefined })}>show all time</a>. This page updates as views arrive.
          </p>
          ${howToTrack(view.base, view.site)}`,
      )}
      ${dropped(view)}`;
  }
  return html`${heading}${cards}
    ${chartPanel(view, actions)}
    <div class="columns">
      ${rankedTable('Top pages', 'Page', stats.pages, 'site-pages', view.by, filter('page'))}
      ${rankedTable('Entry pages', 'Page', stats.entry_pages, 'site-entry-pages', view.by, filter('page'), 'entries')}
    </div>
    <div class="columns">
      ${rankedTable('Top referrers', 'Referrer', stats.referrers, 'site-referrers', view.by, filter('referrer'))}
      ${rankedTable('Top sources', 'Source', stats.sources, 'site-sources', view.by, filter('source'))}
    </div>
    ${dropped(view)}`;
}

/** The list of sites; pure, so it is unit-tested. */
export function sitesList(sites: SiteItem[], href: (site: string) => string, base: string): TemplateResult {
  if (sites.length === 0) return html`<h1>Sites</h1>${empty('No sites yet', howToTrack(base))}`;
  return html`<h1>Sites</h1>
    <table class="data wide" data-testid="sites">
      <thead><tr><th>Site</th><th>Origins</th><th>Live counters</th><th>Site token</th></tr></thead>
      <tbody>
        ${sites.map(
          (s) => html`<tr data-site=${s.domain}>
            <td><a href=${href(s.domain)}>${s.domain}</a></td>
            <td>${s.origins.length ? s.origins.map((o, i) => html`${i ? html`<br />` : nothing}<code>${o}</code>`) : html`<span class="muted">none</span>`}</td>
            <td>${s.public_live ? 'public' : 'private'}</td>
            <td>${s.token ? 'yes' : 'no'}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
}

function reckonUrl(): string {
  return apiBase() || window.location.origin;
}

/** `#/sites`. */
export async function sites(ctx: ViewContext): Promise<void> {
  ctx.showControls(null);
  ctx.show(loading('sites'));
  try {
    const answer = await ctx.api.sites();
    ctx.show(sitesList(answer.sites, (domain) => ctx.href({}, { page: 'site', site: domain, params: keepAcross(ctx.route.params) }), reckonUrl()));
  } catch (error) {
    ctx.show(failure(error, () => void sites(ctx)));
  }
}

/** The params that carry over from one site to another: the range and the chart's choices. */
function keepAcross(params: Params): Params {
  return { range: params.range, from: params.from, to: params.to, interval: params.interval, uniques: params.uniques, origin: params.origin };
}

function unknownSite(site: string, base: string): TemplateResult {
  return html`<div class="state empty" role="status" data-code="not_found" data-testid="site-unknown">
    <h2>No site ${site} that you can read</h2>
    <p>It is not registered here, or this read token's scopes do not cover it.</p>
    ${howToTrack(base, site)}
  </div>`;
}

/** `#/sites/DOMAIN`. */
export async function site(ctx: ViewContext): Promise<void> {
  const domain = ctx.route.site ?? '';
  const params = ctx.route.params;
  const base = reckonUrl();
  ctx.showControls(controls(ctx, { range: true, interval: true }));
  ctx.show(loading(`the views of ${domain}`));
  const reset = ctx.href(Object.fromEntries([...SITE_FILTERS, 'range', 'from', 'to', 'interval'].map((k) => [k, undefined])));

  let chart: { el: Element; signature: string; destroy: () => void } | undefined;
  ctx.onCleanup(() => chart?.destroy());
  const actions: SiteActions = {
    href: (changes) => ctx.href(changes),
    mountChart(el, columns, step) {
      if (!el || !ctx.current()) return;
      const signature = JSON.stringify([columns, step]);
      if (chart && chart.el === el && chart.signature === signature) return;
      chart?.destroy();
      chart = {
        el,
        signature,
        destroy: barChart(el as HTMLElement, {
          buckets: columns.buckets,
          stepDays: step,
          series: [
            { label: 'Views', color: VIEW_COLORS.views, values: columns.views },
            { label: columns.uniqueLabel, color: VIEW_COLORS.unique, values: columns.unique },
          ],
        }),
      };
    },
  };

  let view: SiteView | undefined;
  let live: LiveState = 'connecting';
  let reads = 0;
  const draw = () => {
    if (view) ctx.show(sitePage(view, actions));
  };
  /** Reads the stats and the last five minutes; a later read wins over an earlier one. */
  const read = async (first: boolean): Promise<boolean> => {
    const mine = ++reads;
    const nowAnswer = ctx.api.siteNow(domain);
    nowAnswer.catch(() => undefined);
    let stats: SiteStats;
    try {
      stats = await ctx.api.siteStats(domain, statsQuery(params, TOP));
    } catch (error) {
      if (mine !== reads || !ctx.current()) return false;
      // A failed re-read keeps the numbers on screen; a failed first read says why.
      if (!first) return false;
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
        ctx.show(html`<h1>Page views: ${domain}</h1>${unknownSite(domain, base)}`);
      } else {
        ctx.show(failure(error, () => void site(ctx), reset));
      }
      return false;
    }
    if (mine !== reads || !ctx.current()) return false;
    const asked = siteInterval(params);
    view = {
      site: domain,
      stats,
      now: view?.now.state === 'ready' ? view.now : { state: 'loading' },
      by: uniqueBy(params),
      origin: viewOrigin(params),
      interval: stats.interval,
      asked: stats.interval === asked ? undefined : asked,
      allTime: isAllTime(params),
      filters: siteFilters(params),
      live,
      base,
    };
    draw();
    try {
      const now = await nowAnswer;
      if (mine === reads && view) view.now = { state: 'ready', now };
    } catch (error) {
      if (mine === reads && view) view.now = { state: 'failed', error };
    }
    if (mine === reads) draw();
    return true;
  };

  if (!(await read(true)) || !ctx.current()) return;
  const stop = followLive({
    open: (signal) => ctx.api.siteLive(domain, signal),
    onViews: () => void read(false),
    onState(state) {
      // Views that came while the stream was not open yet (or dropped) are read now.
      if (state === 'live' && live !== 'live') void read(false);
      live = state;
      if (view) {
        view.live = state;
        draw();
      }
    },
    debounceMs: LIVE_DEBOUNCE_MS,
    fatal: (error) => error instanceof ApiError && [401, 403, 404].includes(error.status),
  });
  ctx.onCleanup(stop);
}
