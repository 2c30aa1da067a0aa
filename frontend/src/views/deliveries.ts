// The delivery log, newest first and live: it follows the log's event stream (no polling),
// re-reads on each change while live, marks what arrived since the last look, and pages
// back with "Load older".

import { html, nothing } from 'lit-html';
import { ApiError, apiBase, type DeliveryRecord } from '../api/client';
import type { ViewContext } from '../context';
import { ago, bytes, dateTime } from '../format';
import { followLive } from '../pageviews';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';

/** How long a burst of deliveries settles before the log reads again. */
const LIVE_DEBOUNCE_MS = 200;
const PAGE = 50;

const identity = (d: DeliveryRecord) =>
  d.seq !== undefined && d.seq !== null ? `s${d.seq}` : `r${d.source}/${d.delivery_id ?? ''}/${d.received_at}`;

export async function deliveries(ctx: ViewContext): Promise<void> {
  const { source, status } = ctx.route.params;
  let head: DeliveryRecord[] = [];
  let tail: DeliveryRecord[] = [];
  let cursor: string | null | undefined;
  let fresh = new Set<string>();
  let live = true;
  let updated: Date | undefined;
  let error: unknown;
  let sources: string[] = [];

  const draw = () => {
    ctx.showControls(controls(ctx, { source: sources, status: true }));
    if (error && head.length === 0) {
      ctx.show(failure(error, () => void poll()));
      return;
    }
    const seen = new Set(head.map(identity));
    const rows = [...head, ...tail.filter((d) => !seen.has(identity(d)))];
    const toolbar = html`<div class="toolbar">
      <button type="button" class=${live ? 'live on' : 'live'} aria-pressed=${live} @click=${() => { live = !live; draw(); if (live) void poll(); }}>
        ${live ? 'Live' : 'Paused'}
      </button>
      <span class="muted" data-testid="updated">${updated ? `updated ${ago(updated.toISOString())}` : ''}</span>
      ${error ? html`<span class="warn" role="alert">Last refresh failed: ${(error as Error).message}</span>` : nothing}
    </div>`;
    if (rows.length === 0) {
      ctx.show(html`<h1>Deliveries</h1>${toolbar}${empty(
        status || source ? 'No deliveries match these filters' : 'No deliveries yet',
        status || source
          ? html`<p><a href=${ctx.href({ status: undefined, source: undefined })}>Show every delivery</a>.</p>`
          : html`<p>Point a GitHub webhook at <code>${webhookUrl()}</code> (see the README); GitHub's first <code>ping</code> appears here within seconds.</p>`,
      )}`);
      return;
    }
    ctx.show(html`
      <h1>Deliveries</h1>
      ${toolbar}
      <table class="data wide" data-testid="deliveries-table">
        <thead>
          <tr><th>Received</th><th>Source</th><th>Event</th><th>Action</th><th>Outcome</th><th class="num">Size</th><th>Delivery</th></tr>
        </thead>
        <tbody>
          ${rows.map(
            (d) => html`<tr class=${fresh.has(identity(d)) ? 'new' : ''} data-status=${d.status}>
              <td title=${d.received_at}>${dateTime(d.received_at)}</td>
              <td>${d.source}</td>
              <td>${d.event}</td>
              <td>${d.action ?? ''}</td>
              <td><span class=${`badge ${d.status}`}>${d.status}</span>${d.reason ? html` <span class="muted">${d.reason}</span>` : nothing}</td>
              <td class="num">${bytes(d.size)}</td>
              <td class="mono">${d.delivery_id ?? '–'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${cursor ? html`<p><button type="button" @click=${() => void older()}>Load older</button></p>` : nothing}
    `);
  };

  const poll = async () => {
    if (!ctx.current()) return;
    try {
      const page = await ctx.api.deliveries({ source, status, limit: PAGE });
      const before = new Set(head.map(identity));
      fresh = head.length === 0 ? new Set() : new Set(page.deliveries.map(identity).filter((id) => !before.has(id)));
      head = page.deliveries;
      if (tail.length === 0) cursor = page.next_cursor;
      updated = new Date();
      error = undefined;
    } catch (e) {
      error = e;
    }
    draw();
  };

  const older = async () => {
    try {
      const page = await ctx.api.deliveries({ source, status, limit: PAGE, cursor: cursor ?? undefined });
      tail = [...tail, ...page.deliveries];
      cursor = page.next_cursor;
      error = undefined;
    } catch (e) {
      error = e;
    }
    draw();
  };

  ctx.showControls(controls(ctx, { source: [], status: true }));
  ctx.show(loading('the delivery log'));
  ctx.api
    .eventDays({})
    .then((days) => {
      sources = [...new Set(days.days.map((d) => d.source))].sort();
      if (ctx.current()) draw();
    })
    .catch(() => undefined);
  await poll();
  if (!ctx.current()) return;
  const stop = followLive({
    open: (signal) => ctx.api.deliveriesLive(signal),
    event: 'deliveries',
    onViews: () => {
      if (live) void poll();
    },
    // What changed while the stream was not open is read once it is.
    onState: (state) => {
      if (state === 'live' && live) void poll();
    },
    debounceMs: LIVE_DEBOUNCE_MS,
    fatal: (e) => e instanceof ApiError && [401, 403, 404].includes(e.status),
  });
  ctx.onCleanup(stop);
}

/** Where GitHub should send webhooks: the API's origin. */
export function webhookUrl(): string {
  return `${apiBase() || window.location.origin}/hooks/github`;
}
