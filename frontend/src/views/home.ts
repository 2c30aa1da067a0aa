// The landing page: straight to the org when there is one, a list when there are several,
// and for an empty store the steps that get the first webhook in.

import { html } from 'lit-html';
import type { ViewContext } from '../context';
import { empty, failure, loading } from '../ui/states';
import { webhookUrl } from './deliveries';

export async function home(ctx: ViewContext): Promise<void> {
  ctx.showControls(null);
  ctx.show(loading('orgs'));
  try {
    const { orgs } = await ctx.api.orgs();
    if (orgs.length === 1) {
      ctx.navigate({ page: 'overview', org: orgs[0]!.org, params: ctx.route.params }, true);
      return;
    }
    if (orgs.length === 0) {
      ctx.show(
        empty(
          'No GitHub data yet',
          html`<ol class="steps">
              <li>In GitHub, open <strong>Organisation → Settings → Webhooks → Add webhook</strong>.</li>
              <li>Payload URL: <code data-testid="webhook-url">${webhookUrl()}</code> (Reckon must be reachable from GitHub: use <code>reckon serve --listen 0.0.0.0:8080</code> behind TLS, or a tunnel).</li>
              <li>Content type: <code>application/json</code>. Secret: the one <code>reckon serve</code> printed at its first start (kept in <code>reckon-data/github-webhook-secret</code>).</li>
              <li>Events: <em>Send me everything</em>.</li>
            </ol>
            <p>GitHub sends a <code>ping</code> at once; watch for it in the <a href="#/deliveries">delivery log</a>.</p>`,
        ),
      );
      return;
    }
    ctx.show(html`<h1>Organisations</h1>
      <ul class="org-list" data-testid="org-list">
        ${orgs.map((o) => html`<li><a href=${ctx.href({}, { page: 'overview', org: o.org, params: ctx.route.params })}>${o.login}</a></li>`)}
      </ul>`);
  } catch (error) {
    ctx.show(failure(error, () => void home(ctx)));
  }
}
