// The top navigation: the org switcher and links to each page, with the current one marked,
// then who is signed in and a way out. Filters carry over between pages so a range picked
// once stays picked (but not the coding-time ranges, which are WakaTime's own presets).

import { html, nothing, type TemplateResult } from 'lit-html';
import type { OrgListItem, TokenInfo } from '../api/client';
import { formatRoute, type Page, type Route } from '../route';

/** The signed-in reader: their token's name once `GET /api/v1/token` answered. */
export interface Account {
  token?: TokenInfo;
  signOut(): void;
  /** How many users send heartbeats, as far as the token sees (`GET /api/v1/heartbeats/users`). */
  codingUsers?: number;
  /** How many sites the token sees (`GET /api/v1/sites`). */
  sites?: number;
}

/** Coding time is in the nav once someone sends heartbeats, or the token may read them. */
export function showsCoding(token: TokenInfo | undefined, codingUsers = 0): boolean {
  return codingUsers > 0 || Boolean(token?.scopes.some((s) => s === 'admin' || s.startsWith('heartbeats:')));
}

/** Sites are in the nav once the reader can see at least one. */
export function showsSites(sites = 0): boolean {
  return sites > 0;
}

export function nav(route: Route, orgs: OrgListItem[], org: string | undefined, go: (r: Route) => void, account: Account): TemplateResult {
  const coding = route.page === 'coding' || route.page === 'coding-project';
  const keep = coding ? {} : { range: route.params.range, from: route.params.from, to: route.params.to };
  const onSites = route.page === 'sites' || route.page === 'site';
  const link = (page: Page, label: string, target: Route) => {
    const current = route.page === page || (page === 'teams' && route.page === 'team') || (page === 'coding' && coding) || (page === 'sites' && onSites);
    return html`<a href=${formatRoute(target)} aria-current=${current ? 'page' : nothing}>${label}</a>`;
  };
  return html`
    ${orgs.length > 0
      ? html`<label class="org-switch">
          <span class="sr-only">Organisation</span>
          <select
            @change=${(e: Event) => go({ page: route.page === 'teams' ? 'teams' : 'overview', org: (e.target as HTMLSelectElement).value, params: keep })}
          >
            ${org && orgs.some((o) => o.org === org.toLowerCase()) ? nothing : html`<option value="" selected>Pick an org</option>`}
            ${orgs.map((o) => html`<option value=${o.org} ?selected=${o.org === org?.toLowerCase()}>${o.login}</option>`)}
          </select>
        </label>`
      : nothing}
    ${link('overview', 'Overview', org ? { page: 'overview', org, params: keep } : { page: 'home', params: keep })}
    ${org ? link('teams', 'Teams', { page: 'teams', org, params: keep }) : nothing}
    ${org ? link('drift', 'Drift', { page: 'drift', org, params: {} }) : nothing}
    ${link('deliveries', 'Deliveries', { page: 'deliveries', params: {} })}
    ${link('events', 'Events', { page: 'events', params: keep })}
    ${link('source', 'Server events', { page: 'source', source: route.source, params: keep })}
    ${coding || showsCoding(account.token, account.codingUsers)
      ? link('coding', 'Coding time', { page: 'coding', user: route.user, params: coding ? { range: route.params.range } : {} })
      : nothing}
    ${onSites || showsSites(account.sites) ? link('sites', 'Sites', { page: 'sites', params: keep }) : nothing}
    <span class="account">
      ${account.token ? html`<span data-testid="signed-in-as" title=${account.token.scopes.join(' ')}>Signed in as <strong>${account.token.name}</strong></span>` : nothing}
      <button type="button" @click=${account.signOut}>Sign out</button>
    </span>
  `;
}
