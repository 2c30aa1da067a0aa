// The drift panel: the org's last reconcile against GitHub. Each check shows GitHub's
// number, Reckon's and the difference; what the run found before repairing it, the sync
// tasks it planned, the webhook deliveries it recovered and what it cost in API calls.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ApiError, type DriftAnswer, type DriftCheck } from '../api/client';
import type { ViewContext } from '../context';
import { count } from '../format';
import { empty, failure, loading } from '../ui/states';
import { card } from './common';

const LABELS: Record<string, string> = {
  repos: 'Repos',
  teams: 'Teams',
  org_members: 'Org members',
  team_members: 'Team members',
  pull_requests_open: 'Open PRs',
  pull_requests_closed: 'Closed PRs (unmerged)',
  pull_requests_merged: 'Merged PRs',
  team_members_outside_org: 'Team members who are not org members',
  pull_requests_unknown_repo: 'PRs of repos Reckon does not know',
  deliveries: 'Webhook deliveries stored',
};

export function checkLabel(check: string): string {
  return LABELS[check] ?? check;
}

/** `+3`, `−2` or `0`: GitHub minus Reckon. */
export function signed(n: number): string {
  if (n > 0) return `+${count(n)}`;
  if (n < 0) return `−${count(-n)}`;
  return '0';
}

export function checksTable(checks: DriftCheck[], testId: string): TemplateResult {
  return html`<table class="data wide" data-testid=${testId}>
    <thead>
      <tr>
        <th>Check</th>
        <th>Scope</th>
        <th class="num">GitHub</th>
        <th class="num">Reckon</th>
        <th class="num">Drift</th>
      </tr>
    </thead>
    <tbody>
      ${checks.map(
        (c) => html`<tr class=${c.drift === 0 ? nothing : 'drifting'} data-check=${c.check} data-scope=${c.scope}>
          <td>${checkLabel(c.check)}</td>
          <td><code>${c.scope}</code></td>
          <td class="num">${count(c.github)}</td>
          <td class="num">${count(c.reckon)}</td>
          <td class="num">${signed(c.drift)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function taskText(task: Record<string, unknown>): string {
  const what = String(task.task ?? 'task').replace(/_/g, ' ');
  const scope = [task.repo, task.team].filter(Boolean).join(' ');
  const since = typeof task.since === 'number' ? ` updated since ${when(new Date(task.since).toISOString())}` : '';
  return `${what}${scope ? ` of ${scope}` : ''}${since}`;
}

/** `2026-11-22 21:10 UTC` from an RFC 3339 instant. */
export function when(instant: string): string {
  const t = new Date(instant);
  return Number.isNaN(t.getTime()) ? instant : `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

export function report(answer: DriftAnswer): TemplateResult {
  const drifting = answer.checks.filter((c) => c.drift !== 0);
  const found = (answer.found ?? []).filter((c) => c.drift !== 0);
  const d = answer.deliveries;
  return html`
    <h1>Drift of ${answer.org}</h1>
    <p class=${answer.status === 'ok' ? 'muted' : 'state-error'} data-testid="drift-status">
      ${answer.status === 'ok' ? 'Last reconcile' : 'The last reconcile failed'}: finished ${when(answer.finished_at)}
      in ${(answer.duration_ms / 1000).toFixed(1)} s${answer.dry_run ? ' (dry run)' : ''}.
      ${answer.error ? html`<br /><code>${answer.error}</code>` : nothing}
    </p>
    <div class="cards">
      ${card('Checks drifting now', count(drifting.length), drifting.length === 0 ? 'Reckon matches GitHub' : 'see the table below', 'drift-now')}
      ${card('Found before the repair', count(found.length), `${plural(answer.tasks.length, 'sync task', 'sync tasks')} planned`)}
      ${card('API requests', count(answer.api.requests), `${count(answer.api.graphql)} GraphQL, ${count(answer.api.not_modified)} answered 304`)}
      ${card('Deliveries redelivered', count(d.redelivered), `${count(d.failed)} failed, ${count(d.missing)} never stored, of ${count(d.scanned)} new`)}
    </div>
    <h2 class="section-title">Checks</h2>
    ${checksTable(answer.checks, 'drift-checks')}
    ${found.length > 0
      ? html`<h2 class="section-title">Found before the repair</h2>
          ${checksTable(found, 'drift-found')}`
      : nothing}
    ${answer.tasks.length > 0
      ? html`<h2 class="section-title">Sync tasks</h2>
          <ul data-testid="drift-tasks">
            ${answer.tasks.map((t) => html`<li>${taskText(t.task as Record<string, unknown>)}${t.added ? nothing : html` <span class="muted">(already queued)</span>`}</li>`)}
          </ul>`
      : nothing}
    ${answer.queue
      ? html`<p class="muted">Queue: ${count(answer.queue.ready)} ready, ${count(answer.queue.leased)} running, ${count(answer.queue.done)} done,
          ${count(answer.queue.dead)} dead${answer.queue.dead > 0 ? html` — <code>reckon queue list --state dead</code>` : nothing}.</p>`
      : nothing}
  `;
}

export async function drift(ctx: ViewContext): Promise<void> {
  const org = ctx.route.org!;
  ctx.showControls(html``);
  ctx.show(loading(`${org}'s drift report`));
  try {
    ctx.show(report(await ctx.api.drift(org)));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_found') {
      ctx.show(
        empty(
          `No reconcile has run for ${org} yet`,
          html`<p>Reckon compares its numbers with GitHub's on a schedule once it has a token and the org to check:</p>
            <pre><code>RECKON_GITHUB_TOKEN=ghp_... RECKON_GITHUB_ORGS=${org} reckon serve</code></pre>
            <p>or run one now with <code>reckon reconcile --org ${org}</code>.</p>`,
        ),
      );
      return;
    }
    ctx.show(failure(error, () => void drift(ctx)));
  }
}
