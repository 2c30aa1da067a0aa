// What every view gets: the API client, the current route, navigation, a place to render
// and a way to register cleanup (timers, charts) that runs when the route changes.

import { html, render, type TemplateResult } from 'lit-html';
import type { Api } from './api/client';
import { formatRoute, type Params, type Route, withParams } from './route';

export interface ViewContext {
  api: Api;
  route: Route;
  /** Renders into the main area, unless the reader has moved on to another route. */
  show(template: TemplateResult): void;
  /** Renders the filter bar above the page. */
  showControls(template: TemplateResult | null): void;
  /** Whether this view is still the one on screen. */
  current(): boolean;
  onCleanup(fn: () => void): void;
  /** A link to this route with some params changed. */
  href(changes: Partial<Params>, route?: Route): string;
  navigate(route: Route, replace?: boolean): void;
  /** Team slugs and repo names of an org, fetched once per page load for the filters. */
  orgOptions(org: string): Promise<{ teams: { slug: string; name: string }[]; repos: string[] }>;
}

export function hrefFor(route: Route, changes: Partial<Params> = {}): string {
  return formatRoute(withParams(route, changes));
}

export function navigate(route: Route, replace = false): void {
  const hash = formatRoute(route);
  if (replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

export function makeContext(
  api: Api,
  route: Route,
  main: HTMLElement,
  bar: HTMLElement,
  isCurrent: () => boolean,
  cleanups: (() => void)[],
  optionsCache: Map<string, ReturnType<ViewContext['orgOptions']>>,
): ViewContext {
  return {
    api,
    route,
    show(template) {
      if (isCurrent()) render(template, main);
    },
    showControls(template) {
      if (isCurrent()) render(template ?? html``, bar);
    },
    current: isCurrent,
    onCleanup(fn) {
      cleanups.push(fn);
    },
    href(changes, target = route) {
      return hrefFor(target, changes);
    },
    navigate,
    orgOptions(org) {
      let cached = optionsCache.get(org);
      if (!cached) {
        cached = Promise.all([api.teams(org, {}), api.repos(org)]).then(([teams, repos]) => ({
          teams: teams.teams.map((t) => ({ slug: t.team, name: t.name ?? t.team })),
          repos: repos.repos.map((r) => r.name),
        }));
        cached.catch(() => optionsCache.delete(org));
        optionsCache.set(org, cached);
      }
      return cached;
    },
  };
}
