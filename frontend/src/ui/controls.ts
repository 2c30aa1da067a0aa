// The filter bar above every page: a date range (presets or custom dates) and the team,
// repo, source or outcome filters that apply to the page. Changing one rewrites the URL.

import { html, nothing, type TemplateResult } from 'lit-html';
import { CODING_RANGES, codingRange } from '../coding';
import { DEFAULT_INTERVAL, INTERVALS, siteInterval } from '../pageviews';
import type { ViewContext } from '../context';
import { DEFAULT_RANGE, RANGE_PRESETS, resolveRange, withParams, type Params } from '../route';

export interface ControlSet {
  range?: boolean;
  team?: { slug: string; name: string }[];
  repo?: string[];
  source?: string[];
  /** The server-events sources the source page can switch between (`#/sources/NAME`). */
  sourcePage?: string[];
  status?: boolean;
  /** The coding-time presets (`last_7_days`…), instead of `range`'s. */
  codingRange?: boolean;
  /** The users the coding-time pages can switch between (`#/coding/NAME`). */
  codingUser?: string[];
  /** The page-views series bucket (`interval=`): hour, day, week or month. */
  interval?: boolean;
}

const STATUSES = ['accepted', 'duplicate', 'rejected'];

export function controls(ctx: ViewContext, set: ControlSet): TemplateResult {
  const params = ctx.route.params;
  const go = (changes: Partial<Params>) => ctx.navigate(withParams(ctx.route, changes));
  const custom = Boolean(params.from || params.to);
  const active = custom ? 'custom' : (params.range ?? DEFAULT_RANGE);
  const resolved = resolveRange(params);
  const onDates = (e: Event) => {
    const form = (e.target as HTMLElement).closest('form')!;
    const from = (form.querySelector('[name=from]') as HTMLInputElement).value;
    const to = (form.querySelector('[name=to]') as HTMLInputElement).value;
    e.preventDefault();
    if (from || to) go({ from, to, range: undefined });
  };
  const select = (
    name: keyof Params,
    label: string,
    all: string,
    options: { value: string; label: string }[],
  ) => html`<label class="control">
    <span>${label}</span>
    <select
      name=${name}
      @change=${(e: Event) => go({ [name]: (e.target as HTMLSelectElement).value || undefined })}
    >
      <option value="" ?selected=${!params[name]}>${all}</option>
      ${options.map(
        (o) => html`<option value=${o.value} ?selected=${params[name] === o.value}>${o.label}</option>`,
      )}
      ${params[name] && !options.some((o) => o.value === params[name])
        ? html`<option value=${params[name]!} selected>${params[name]}</option>`
        : nothing}
    </select>
  </label>`;

  return html`<div class="controls">
    ${set.range
      ? html`<div class="control range" role="group" aria-label="Date range">
          <span>Range</span>
          <div class="segmented">
            ${RANGE_PRESETS.map(
              (p) => html`<button
                type="button"
                class=${active === p.id ? 'on' : ''}
                aria-pressed=${active === p.id}
                @click=${() => go({ range: p.id, from: undefined, to: undefined })}
              >
                ${p.label}
              </button>`,
            )}
          </div>
          <form class="dates" @submit=${onDates} @change=${onDates}>
            <input type="date" name="from" aria-label="From" .value=${resolved.from ?? ''} />
            <span aria-hidden="true">–</span>
            <input type="date" name="to" aria-label="To (inclusive)" .value=${resolved.to ?? ''} />
          </form>
        </div>`
      : nothing}
    ${set.interval ? intervalSwitch(ctx) : nothing}
    ${set.codingRange ? codingPresets(ctx) : nothing}
    ${set.codingUser ? userSwitch(ctx, set.codingUser) : nothing}
    ${set.team
      ? select('team', 'Team', 'All teams', set.team.map((t) => ({ value: t.slug, label: t.name })))
      : nothing}
    ${set.repo ? select('repo', 'Repo', 'All repos', set.repo.map((r) => ({ value: r, label: r }))) : nothing}
    ${set.source ? select('source', 'Source', 'All sources', set.source.map((s) => ({ value: s, label: s }))) : nothing}
    ${set.sourcePage ? sourceSwitch(ctx, set.sourcePage) : nothing}
    ${set.status ? select('status', 'Outcome', 'All outcomes', STATUSES.map((s) => ({ value: s, label: s }))) : nothing}
  </div>`;
}

/** Picks the source of the source page; the day picked belongs to the old one, so it goes. */
function sourceSwitch(ctx: ViewContext, sources: string[]): TemplateResult {
  const current = ctx.route.source;
  const names = current && !sources.includes(current) ? [current, ...sources] : sources;
  return html`<label class="control">
    <span>Source</span>
    <select
      name="source-page"
      @change=${(e: Event) => {
        const source = (e.target as HTMLSelectElement).value;
        if (source) ctx.navigate({ ...withParams(ctx.route, { day: undefined }), source });
      }}
    >
      ${current ? nothing : html`<option value="" selected>Pick a source</option>`}
      ${names.map((name) => html`<option value=${name} ?selected=${name === current}>${name}</option>`)}
    </select>
  </label>`;
}

/** The page-views series bucket; the default (day) leaves the URL without `interval=`. */
function intervalSwitch(ctx: ViewContext): TemplateResult {
  const active = siteInterval(ctx.route.params);
  return html`<div class="control" role="group" aria-label="Interval">
    <span>Interval</span>
    <div class="segmented">
      ${INTERVALS.map(
        (i) => html`<button
          type="button"
          class=${active === i.id ? 'on' : ''}
          aria-pressed=${active === i.id}
          @click=${() => ctx.navigate(withParams(ctx.route, { interval: i.id === DEFAULT_INTERVAL ? undefined : i.id }))}
        >
          ${i.label}
        </button>`,
      )}
    </div>
  </div>`;
}

/** The coding-time range presets; WakaTime's summaries have no custom dates here. */
function codingPresets(ctx: ViewContext): TemplateResult {
  const active = codingRange(ctx.route.params);
  return html`<div class="control range" role="group" aria-label="Date range">
    <span>Range</span>
    <div class="segmented">
      ${CODING_RANGES.map(
        (p) => html`<button
          type="button"
          class=${active === p.id ? 'on' : ''}
          aria-pressed=${active === p.id}
          @click=${() => ctx.navigate(withParams(ctx.route, { range: p.id, from: undefined, to: undefined }))}
        >
          ${p.label}
        </button>`,
      )}
    </div>
  </div>`;
}

/** Picks the user of the coding-time pages; the filters belong to the old one, so they go. */
function userSwitch(ctx: ViewContext, users: string[]): TemplateResult {
  const current = ctx.route.user;
  const names = current && !users.includes(current) ? [current, ...users] : users;
  return html`<label class="control">
    <span>User</span>
    <select
      name="coding-user"
      @change=${(e: Event) => {
        const user = (e.target as HTMLSelectElement).value;
        if (user) ctx.navigate({ page: 'coding', user, params: { range: ctx.route.params.range, by: ctx.route.params.by } });
      }}
    >
      ${current ? nothing : html`<option value="" selected>Pick a user</option>`}
      ${names.map((name) => html`<option value=${name} ?selected=${name === current}>${name}</option>`)}
    </select>
  </label>`;
}
