// The org overview: what the org holds now, PR totals and median time to merge in the
// chosen range, PRs opened and merged per week, and the busiest repos and authors.

import { html } from 'lit-html';
import type { ViewContext } from '../context';
import { count, duration } from '../format';
import { resolveRange } from '../route';
import { controls } from '../ui/controls';
import { failure, loading } from '../ui/states';
import { card, prChart, tallyTable } from './common';

export async function overview(ctx: ViewContext): Promise<void> {
  const org = ctx.route.org!;
  const { team, repo } = ctx.route.params;
  const range = resolveRange(ctx.route.params);
  const filters = { ...range, team, repo };
  ctx.showControls(controls(ctx, { range: true, team: [], repo: [] }));
  ctx.show(loading(`${org}'s numbers`));
  ctx
    .orgOptions(org)
    .then((o) => ctx.showControls(controls(ctx, { range: true, team: o.teams, repo: o.repos })))
    .catch(() => undefined);
  try {
    const [summary, stats, series] = await Promise.all([
      ctx.api.summary(org),
      ctx.api.prStats(org, filters, 10),
      ctx.api.series(org, filters, 'week'),
    ]);
    const scope = [team && `team ${team}`, repo && `repo ${repo}`].filter(Boolean).join(', ');
    ctx.show(html`
      <h1>${summary.org}</h1>
      <section class="cards" aria-label="The org now" data-testid="org-now">
        ${card('Repos', count(summary.repos), undefined, 'count-repos')}
        ${card('Teams', count(summary.teams), undefined, 'count-teams')}
        ${card('Members', count(summary.members), undefined, 'count-members')}
        ${card('Open PRs', count(summary.pull_requests.open), undefined, 'count-open')}
        ${card('Merged PRs', count(summary.pull_requests.merged), undefined, 'count-merged')}
        ${card('Closed unmerged', count(summary.pull_requests.closed), undefined, 'count-closed')}
      </section>
      <h2 class="section-title">
        In this range${scope ? html` <span class="scope">(${scope})</span>` : ''}
      </h2>
      <section class="cards" aria-label="In the range" data-testid="in-range">
        ${card('Opened', count(stats.opened), undefined, 'range-opened')}
        ${card('Merged', count(stats.merged), undefined, 'range-merged')}
        ${card('Closed unmerged', count(stats.closed), undefined, 'range-closed')}
        ${card('Median time to merge', duration(stats.median_time_to_merge_seconds), 'of PRs merged in the range', 'range-ttm')}
      </section>
      ${prChart(ctx, 'Pull requests per week', series, ctx.href({ range: 'all', from: undefined, to: undefined }))}
      <div class="columns">
        ${tallyTable('Top repos', 'Repo', stats.top_repos, (key) => ctx.href({ repo: key.split('/').pop() }), 'top-repos')}
        ${tallyTable('Top authors', 'Author', stats.top_authors, undefined, 'top-authors')}
      </div>
    `);
  } catch (error) {
    ctx.show(failure(error, () => void overview(ctx), ctx.href({ team: undefined, repo: undefined, from: undefined, to: undefined, range: undefined })));
  }
}
