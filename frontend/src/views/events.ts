// Stored events per source and UTC day: a bar per day across the range, and the events of
// one picked day in a table, each payload one click away.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import type { DayCount, Schemas } from '../api/client';
import type { ViewContext } from '../context';
import { count, dateTime } from '../format';
import { daysBetween, isoDay, resolveRange } from '../route';
import { barChart } from '../ui/chart';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';
import { COLORS } from './common';
import { webhookUrl } from './deliveries';
import { GITHUB_SOURCES } from './source';

const PAGE = 100;

/** Every day from `from` to `to` (inclusive) with its count, zero where nothing came. */
export function fillDays(days: DayCount[], from: string, to: string): { day: string; events: number }[] {
  const counts = new Map(days.map((d) => [d.day, d.events]));
  return daysBetween(from, to).map((day) => ({ day, events: counts.get(day) ?? 0 }));
}

export async function events(ctx: ViewContext): Promise<void> {
  const params = ctx.route.params;
  const range = resolveRange(params);
  ctx.showControls(controls(ctx, { range: true, source: [] }));
  ctx.show(loading('events by day'));
  try {
    const all = await ctx.api.eventDays(range);
    const sources = [...new Set(all.days.map((d) => d.source))].sort();
    ctx.showControls(controls(ctx, { range: true, source: sources }));
    if (sources.length === 0) {
      ctx.show(
        empty(
          'No events in this range',
          html`<p>Events appear here per source and day once they are stored. Send a GitHub webhook to <code>${webhookUrl()}</code>, or post server events to <code>/hooks/{source}</code>.
              Game servers submit to <code>/submit</code>: see <a href="#/sources">Server events</a>.</p>
            <p><a href=${ctx.href({ range: 'all', from: undefined, to: undefined })}>Show all time</a></p>`,
        ),
      );
      return;
    }
    const source = params.source ?? (sources.includes('github') ? 'github' : sources[0]!);
    const mine = all.days.filter((d) => d.source === source).sort((a, b) => a.day.localeCompare(b.day));
    const first = range.from ?? mine[0]?.day ?? isoDay(new Date());
    const last = range.to ?? mine[mine.length - 1]?.day ?? first;
    const filled = fillDays(mine, first, last);
    const total = mine.reduce((n, d) => n + d.events, 0);
    const day = params.day ?? mine[mine.length - 1]?.day;
    const pick = (index: number) => {
      const picked = filled[index];
      if (picked) ctx.navigate({ ...ctx.route, params: { ...params, source, day: picked.day } });
    };
    const mount = (el: Element | undefined) => {
      if (!el || (el as HTMLElement).dataset.mounted) return;
      (el as HTMLElement).dataset.mounted = 'yes';
      ctx.onCleanup(
        barChart(el as HTMLElement, {
          buckets: filled.map((d) => d.day),
          stepDays: 1,
          series: [{ label: 'Events', color: COLORS.events, values: filled.map((d) => d.events) }],
          onPick: pick,
        }),
      );
    };
    const header = html`<h1>Events: ${source}</h1>
      ${GITHUB_SOURCES.includes(source)
        ? nothing
        : html`<p class="muted" data-testid="server-events-link">
            <a href=${ctx.href({}, { page: 'source', source, params: { range: params.range, from: params.from, to: params.to, day: params.day } })}>Milestones, games and players of ${source}</a>
            (for sources that take server events)
          </p>`}
      <section class="panel" data-testid="events-chart" data-total=${total}>
        <h2>Events per day</h2>
        <p class="caption">${count(total)} events on ${mine.length} ${mine.length === 1 ? 'day' : 'days'}; click a bar to list that day.</p>
        <div class="chart" role="img" aria-label=${`${source} events per day: ${total} in the range`} ${ref(mount)}></div>
        <form class="inline" @change=${(e: Event) => {
          const value = (e.target as HTMLInputElement).value;
          if (value) ctx.navigate({ ...ctx.route, params: { ...params, source, day: value } });
        }}>
          <label>Day <input type="date" name="day" .value=${day ?? ''} /></label>
        </form>
      </section>`;
    if (!day) {
      ctx.show(html`${header}`);
      return;
    }
    await dayTable(ctx, header, source, day);
  } catch (error) {
    ctx.show(failure(error, () => void events(ctx)));
  }
}

type StoredEvent = Schemas['StoredEvent'];

async function dayTable(ctx: ViewContext, header: TemplateResult, source: string, day: string): Promise<void> {
  let rows: StoredEvent[] = [];
  let cursor: string | null | undefined;
  const draw = () =>
    ctx.show(html`${header}
      <section class="panel" data-testid="events-day">
        <h2>${source} on ${day}</h2>
        ${rows.length === 0
          ? html`<p class="state empty-inline">No ${source} events were stored on ${day} (UTC).</p>`
          : html`<table class="data wide">
              <thead><tr><th>Received</th><th>Event</th><th>Action</th><th>Delivery</th><th>Payload</th></tr></thead>
              <tbody>
                ${rows.map(
                  (e) => html`<tr>
                    <td title=${e.received_at}>${dateTime(e.received_at)}</td>
                    <td>${e.kind}</td>
                    <td>${e.action ?? ''}</td>
                    <td class="mono">${e.delivery_id}</td>
                    <td>
                      <details @toggle=${(ev: Event) => {
                        const d = ev.target as HTMLDetailsElement;
                        const pre = d.querySelector('pre')!;
                        if (d.open && !pre.textContent) pre.textContent = JSON.stringify(e.payload, null, 2);
                      }}>
                        <summary>Show</summary>
                        <pre class="payload" tabindex="0" aria-label="Payload"></pre>
                      </details>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
        ${cursor ? html`<p><button type="button" @click=${() => void more()}>Load more</button></p>` : nothing}
      </section>`);
  const more = async () => {
    try {
      const page = await ctx.api.events({ source, day, cursor: cursor ?? undefined, limit: PAGE });
      rows = [...rows, ...page.events];
      cursor = page.next_cursor;
      draw();
    } catch (error) {
      ctx.show(html`${header}${failure(error, () => void dayTable(ctx, header, source, day))}`);
    }
  };
  ctx.show(html`${header}${loading(`${source} events of ${day}`)}`);
  await more();
}
