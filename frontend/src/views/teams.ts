// Every team of the org in one table (members, PRs opened and merged in the range, median
// time to merge), and one team's page with its members and its PR chart.

import { html } from 'lit-html';
import type { ViewContext } from '../context';
import { count, duration } from '../format';
import { resolveRange } from '../route';
import { controls } from '../ui/controls';
import { empty, failure, loading } from '../ui/states';
import { card, prChart } from './common';

export async function teams(ctx: ViewContext): Promise<void> {
  const org = ctx.route.org!;
  const range = resolveRange(ctx.route.params);
  const only = ctx.route.params.team;
  ctx.show(loading(`${org}'s teams`));
  try {
    const answer = await ctx.api.teams(org, range);
    const options = answer.teams.map((t) => ({ slug: t.team, name: t.name ?? t.team }));
    ctx.showControls(controls(ctx, { range: true, team: options }));
    const rows = only ? answer.teams.filter((t) => t.team === only) : answer.teams;
    if (answer.teams.length === 0) {
      ctx.show(
        empty(
          'No teams yet',
          html`<p>Reckon learns teams from GitHub's <code>team</code>, <code>membership</code> and <code>team_add</code> webhooks.</p>
            <p>Check that the org webhook sends them (or <em>Send me everything</em>), then create or edit a team on GitHub.</p>`,
        ),
      );
      return;
    }
    ctx.show(html`
      <h1>Teams of ${org}</h1>
      <table class="data wide" data-testid="teams-table">
        <thead>
          <tr>
            <th>Team</th>
            <th class="num">Members</th>
            <th class="num">PRs opened</th>
            <th class="num">PRs merged</th>
            <th class="num">Median time to merge</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (t) => html`<tr data-team=${t.team}>
              <td>
                <a href=${ctx.href({ team: undefined }, { page: 'team', org, team: t.team, params: ctx.route.params })}>${t.name ?? t.team}</a>
                <span class="muted">${t.team}</span>
              </td>
              <td class="num">${count(t.members)}</td>
              <td class="num">${count(t.opened)}</td>
              <td class="num">${count(t.merged)}</td>
              <td class="num">${duration(t.median_time_to_merge_seconds)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <p class="muted">PRs count when their author is a current member of the team.</p>
    `);
  } catch (error) {
    ctx.showControls(controls(ctx, { range: true }));
    ctx.show(failure(error, () => void teams(ctx)));
  }
}

export async function team(ctx: ViewContext): Promise<void> {
  const org = ctx.route.org!;
  const slug = ctx.route.team!;
  const { repo } = ctx.route.params;
  const range = resolveRange(ctx.route.params);
  const filters = { ...range, team: slug, repo };
  ctx.showControls(controls(ctx, { range: true, repo: [] }));
  ctx
    .orgOptions(org)
    .then((o) => ctx.showControls(controls(ctx, { range: true, repo: o.repos })))
    .catch(() => undefined);
  ctx.show(loading(`team ${slug}`));
  try {
    const [members, stats, series, name] = await Promise.all([
      ctx.api.teamMembers(org, slug),
      ctx.api.prStats(org, filters, 5),
      ctx.api.series(org, filters, 'week'),
      ctx
        .orgOptions(org)
        .then((o) => o.teams.find((t) => t.slug === slug)?.name ?? slug)
        .catch(() => slug),
    ]);
    ctx.show(html`
      <p class="crumbs"><a href=${ctx.href({ repo: undefined }, { page: 'teams', org, params: ctx.route.params })}>Teams of ${org}</a> /</p>
      <h1>${name} <span class="muted">${slug}</span></h1>
      <section class="cards" data-testid="team-stats">
        ${card('Members', count(members.members.length))}
        ${card('Opened', count(stats.opened))}
        ${card('Merged', count(stats.merged))}
        ${card('Median time to merge', duration(stats.median_time_to_merge_seconds))}
      </section>
      ${prChart(ctx, `Pull requests per week by ${name}`, series, ctx.href({ range: 'all', from: undefined, to: undefined }))}
      <section class="panel" data-testid="team-members">
        <h2>Members</h2>
        ${members.members.length === 0
          ? html`<p class="state empty-inline">This team has no members Reckon knows of.</p>`
          : html`<ul class="members">
              ${members.members.map((m) => html`<li><a href=${`https://github.com/${encodeURIComponent(m.login)}`} rel="noopener" target="_blank">${m.login}</a></li>`)}
            </ul>`}
      </section>
    `);
  } catch (error) {
    ctx.show(failure(error, () => void team(ctx)));
  }
}
