// The dashboard's entry point: reads the route from the URL hash, draws the navigation and
// the page for it, and cleans up the previous page's timers and charts on every change.

import { render } from 'lit-html';
import { createApi, type OrgListItem } from './api/client';
import { makeContext, navigate, type ViewContext } from './context';
import { parseRoute, type Page } from './route';
import { nav } from './ui/nav';
import { deliveries } from './views/deliveries';
import { drift } from './views/drift';
import { events } from './views/events';
import { home } from './views/home';
import { overview } from './views/overview';
import { source } from './views/source';
import { team, teams } from './views/teams';
import './style.css';

const views: Record<Page, (ctx: ViewContext) => Promise<void>> = {
  home,
  overview,
  teams,
  team,
  drift,
  deliveries,
  events,
  source,
};

const api = createApi();
const main = document.getElementById('main')!;
const bar = document.getElementById('controls')!;
const navEl = document.getElementById('nav')!;
// lit-html renders beside existing children, so drop the static "Loading…" first.
main.replaceChildren();
const optionsCache = new Map();
let orgs: OrgListItem[] = [];
let generation = 0;
let cleanups: (() => void)[] = [];
let lastOrg: string | undefined;

function show(): void {
  for (const fn of cleanups.splice(0)) fn();
  const mine = ++generation;
  const route = parseRoute(window.location.hash);
  if (route.org) lastOrg = route.org;
  const org = route.org ?? (route.page === 'home' ? undefined : lastOrg);
  render(nav(route, orgs, org, (r) => navigate(r)), navEl);
  document.title = ['Reckon', route.org ?? route.source, route.page === 'home' ? undefined : route.page].filter(Boolean).join(' · ');
  const ctx = makeContext(api, route, main, bar, () => mine === generation, cleanups, optionsCache);
  void views[route.page](ctx);
}

window.addEventListener('hashchange', show);
show();
api
  .orgs()
  .then((answer) => {
    orgs = answer.orgs;
    const route = parseRoute(window.location.hash);
    render(nav(route, orgs, route.org ?? lastOrg, (r) => navigate(r)), navEl);
  })
  .catch(() => undefined);
