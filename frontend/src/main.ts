// The dashboard's entry point: without a read token it shows the sign-in page; with one it
// reads the route from the URL hash, draws the navigation and the page for it, and cleans
// up the previous page's timers and charts on every change. A 401 signs the reader out.

import { nothing, render } from 'lit-html';
import { apiBase, createApi, type ApiError, type HeartbeatUser, type OrgListItem, type TokenInfo } from './api/client';
import { makeContext, navigate, type ViewContext } from './context';
import { parseRoute, type Page, type Route } from './route';
import { clearToken, readToken } from './session';
import { nav } from './ui/nav';
import { coding, codingProject } from './views/coding';
import { deliveries } from './views/deliveries';
import { drift } from './views/drift';
import { events } from './views/events';
import { home } from './views/home';
import { overview } from './views/overview';
import { signedOutNotice, signIn } from './views/signin';
import { site, sites } from './views/sites';
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
  coding,
  'coding-project': codingProject,
  sites,
  site,
};

const api = createApi(apiBase(), undefined, {
  token: readToken,
  onUnauthorized: (error: ApiError) => signOut(signedOutNotice(error)),
});
const main = document.getElementById('main')!;
const bar = document.getElementById('controls')!;
const navEl = document.getElementById('nav')!;
// lit-html renders beside existing children, so drop the static "Loading…" first.
main.replaceChildren();
const optionsCache = new Map();
let orgs: OrgListItem[] = [];
let codingUsers: HeartbeatUser[] = [];
let siteCount = 0;
let token: TokenInfo | undefined;
let signingIn = false;
let generation = 0;
let cleanups: (() => void)[] = [];
let lastOrg: string | undefined;

/** Ends the page on screen: its timers and charts stop, its late answers are dropped. */
function leave(): number {
  for (const fn of cleanups.splice(0)) fn();
  return ++generation;
}

function drawNav(route: Route, org: string | undefined): void {
  render(nav(route, orgs, org, (r) => navigate(r), { token, signOut: () => signOut(), codingUsers: codingUsers.length, sites: siteCount }), navEl);
}

function show(): void {
  if (!readToken()) {
    if (!signingIn) signOut();
    return;
  }
  const mine = leave();
  const route = parseRoute(window.location.hash);
  if (route.org) lastOrg = route.org;
  const org = route.org ?? (route.page === 'home' ? undefined : lastOrg);
  drawNav(route, org);
  document.title = ['Reckon', route.org ?? route.source ?? route.site ?? route.project ?? route.user, route.page === 'home' ? undefined : route.page].filter(Boolean).join(' · ');
  const ctx = makeContext(api, route, main, bar, () => mine === generation, cleanups, optionsCache);
  void views[route.page](ctx);
}

/** Draws the app for a signed-in reader and fetches what the nav shows: the orgs, and whose token this is. */
function start(info?: TokenInfo): void {
  token = info;
  show();
  const held = readToken();
  // An answer that arrives after a sign-out belongs to the reader who left.
  const apply = <T>(keep: (answer: T) => void) => (answer: T) => {
    if (readToken() !== held) return;
    keep(answer);
    const route = parseRoute(window.location.hash);
    drawNav(route, route.org ?? lastOrg);
  };
  if (!info) api.token().then(apply((answer) => (token = answer))).catch(() => undefined);
  api.orgs().then(apply((answer) => (orgs = answer.orgs))).catch(() => undefined);
  api.heartbeatUsers().then(apply((answer) => (codingUsers = answer.users))).catch(() => undefined);
  api.sites().then(apply((answer) => (siteCount = answer.sites.length))).catch(() => undefined);
}

/** Forgets the token and everything read with it, and shows the sign-in page, with `notice` saying why. */
function signOut(notice?: string): void {
  clearToken();
  leave();
  signingIn = true;
  orgs = [];
  codingUsers = [];
  siteCount = 0;
  token = undefined;
  lastOrg = undefined;
  optionsCache.clear();
  render(nothing, navEl);
  render(nothing, bar);
  document.title = 'Sign in · Reckon';
  signIn(main, {
    notice,
    verify: (candidate) => createApi(apiBase(), undefined, { token: () => candidate }).token(),
    signedIn(info) {
      signingIn = false;
      start(info);
    },
  });
}

window.addEventListener('hashchange', show);
if (readToken()) start();
else signOut();
