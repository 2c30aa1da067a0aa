// Pieces several views share: stat cards, the PR chart panel with its caption and data
// table, and the tallies of top repos and authors.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import type { SeriesAnswer } from '../api/client';
import type { ViewContext } from '../context';
import { count } from '../format';
import { barChart } from '../ui/chart';

export const COLORS = { opened: '#1f6feb', merged: '#8250df', events: '#1a7f37' };

export function card(label: string, value: string, note?: string, testId?: string): TemplateResult {
  return html`<div class="card" data-testid=${testId ?? nothing}>
    <div class="card-value">${value}</div>
    <div class="card-label">${label}</div>
    ${note ? html`<div class="card-note">${note}</div>` : nothing}
  </div>`;
}

/** The PRs-per-week panel: caption with totals, the chart, and its numbers as a table. */
export function prChart(ctx: ViewContext, title: string, answer: SeriesAnswer, allTimeHref: string): TemplateResult {
  const series = answer.series;
  const opened = series.reduce((n, p) => n + p.opened, 0);
  const merged = series.reduce((n, p) => n + p.merged, 0);
  const caption = `${count(opened)} opened and ${count(merged)} merged in ${series.length} ${series.length === 1 ? 'week' : 'weeks'}`;
  if (opened === 0 && merged === 0) {
    return html`<section class="panel" data-testid="pr-chart" data-opened="0" data-merged="0">
      <h2>${title}</h2>
      <p class="state empty-inline">
        No pull requests were opened or merged in this range.
        <a href=${allTimeHref}>Show all time</a>
      </p>
    </section>`;
  }
  const mount = (el: Element | undefined) => {
    if (!el || (el as HTMLElement).dataset.mounted) return;
    (el as HTMLElement).dataset.mounted = 'yes';
    const destroy = barChart(el as HTMLElement, {
      buckets: series.map((p) => p.bucket),
      stepDays: 7,
      series: [
        { label: 'Opened', color: COLORS.opened, values: series.map((p) => p.opened) },
        { label: 'Merged', color: COLORS.merged, values: series.map((p) => p.merged) },
      ],
    });
    ctx.onCleanup(destroy);
  };
  return html`<section class="panel" data-testid="pr-chart" data-opened=${opened} data-merged=${merged}>
    <h2>${title}</h2>
    <p class="caption" data-testid="pr-chart-caption">${caption}</p>
    <div class="chart" role="img" aria-label=${`${title}: ${caption}`} ${ref(mount)}></div>
    <details>
      <summary>Show the numbers</summary>
      <table class="data">
        <thead><tr><th>Week of</th><th class="num">Opened</th><th class="num">Merged</th><th class="num">Closed unmerged</th></tr></thead>
        <tbody>
          ${series.map(
            (p) => html`<tr><td>${p.bucket}</td><td class="num">${p.opened}</td><td class="num">${p.merged}</td><td class="num">${p.closed}</td></tr>`,
          )}
        </tbody>
      </table>
    </details>
  </section>`;
}

export function tallyTable(
  title: string,
  column: string,
  rows: { key: string; opened: number; merged: number }[],
  link?: (key: string) => string,
  testId?: string,
): TemplateResult {
  return html`<section class="panel" data-testid=${testId ?? nothing}>
    <h2>${title}</h2>
    ${rows.length === 0
      ? html`<p class="state empty-inline">No pull requests in this range.</p>`
      : html`<table class="data">
          <thead><tr><th>${column}</th><th class="num">Opened</th><th class="num">Merged</th></tr></thead>
          <tbody>
            ${rows.map(
              (r) => html`<tr>
                <td>${link ? html`<a href=${link(r.key)}>${r.key}</a>` : r.key}</td>
                <td class="num">${count(r.opened)}</td>
                <td class="num">${count(r.merged)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
  </section>`;
}
