import { describe, expect, test } from 'vitest';
import { dayStartMs, daysBetween, formatRoute, parseRoute, resolveRange, withParams } from '../src/route';

describe('routes', () => {
  test('parse every page and its params', () => {
    expect(parseRoute('')).toEqual({ page: 'home', params: {} });
    expect(parseRoute('#/orgs/acme')).toEqual({ page: 'overview', org: 'acme', params: {} });
    expect(parseRoute('#/orgs/acme/teams?range=30d')).toEqual({ page: 'teams', org: 'acme', params: { range: '30d' } });
    expect(parseRoute('#/orgs/acme/teams/core?repo=api&team=x')).toEqual({
      page: 'team',
      org: 'acme',
      team: 'core',
      params: { repo: 'api', team: 'x' },
    });
    expect(parseRoute('#/deliveries?status=rejected&bogus=1')).toEqual({ page: 'deliveries', params: { status: 'rejected' } });
    expect(parseRoute('#/events?source=ci&day=2026-03-02').params).toEqual({ source: 'ci', day: '2026-03-02' });
    expect(parseRoute('#/sources')).toEqual({ page: 'source', params: {} });
    expect(parseRoute('#/sources/dcss?range=30d&day=2026-11-29')).toEqual({
      page: 'source',
      source: 'dcss',
      params: { range: '30d', day: '2026-11-29' },
    });
    expect(parseRoute('#/coding')).toEqual({ page: 'coding', params: {} });
    expect(parseRoute('#/coding/ada?range=last_30_days&by=language&editor=VS%20Code&bogus=1')).toEqual({
      page: 'coding',
      user: 'ada',
      params: { range: 'last_30_days', by: 'language', editor: 'VS Code' },
    });
    expect(parseRoute('#/coding/ada/projects/reckon?range=all_time&branch=main')).toEqual({
      page: 'coding-project',
      user: 'ada',
      project: 'reckon',
      params: { range: 'all_time', branch: 'main' },
    });
    // A project path without a project is the user's page.
    expect(parseRoute('#/coding/ada/projects')).toEqual({ page: 'coding', user: 'ada', params: {} });
    expect(parseRoute('#/nowhere').page).toBe('home');
  });

  test('format is the inverse of parse, with escaping', () => {
    for (const hash of ['#/', '#/orgs/acme?from=2026-01-01&to=2026-02-01&team=core', '#/orgs/a%20b/teams/c%2Fd', '#/deliveries?status=accepted', '#/events?range=all', '#/sources', '#/sources/dcss?from=2026-11-01&day=2026-11-29', '#/sources/game%20servers', '#/coding', '#/coding/ada?range=this_week&by=language', '#/coding/ada?language=C%2B%2B&editor=VS+Code&operating_system=Linux&machine=box&category=coding&branch=main', '#/coding/a%20b/projects/c%2Fd?range=last_year&branch=feat%2Fx']) {
      expect(formatRoute(parseRoute(hash))).toBe(hash);
    }
    expect(parseRoute('#/orgs/a%20b/teams/c%2Fd').team).toBe('c/d');
    expect(parseRoute('#/orgs/%E0%A4%A').org).toBe('%E0%A4%A');
    expect(parseRoute('#/sources/game%20servers').source).toBe('game servers');
    expect(parseRoute('#/coding/a%20b/projects/c%2Fd')).toMatchObject({ user: 'a b', project: 'c/d' });
    expect(parseRoute('#/coding/ada?language=C%2B%2B').params.language).toBe('C++');
  });

  test('the page-views pages and their params', () => {
    expect(parseRoute('#/sites')).toEqual({ page: 'sites', params: {} });
    expect(parseRoute('#/sites/')).toEqual({ page: 'sites', params: {} });
    expect(parseRoute('#/sites/blog.test')).toEqual({ page: 'site', site: 'blog.test', params: {} });
    expect(parseRoute('#/sites/blog.test?range=30d&interval=hour&uniques=visitors&page=%2Fpost%2F1&referrer=(direct)&source=Google&bogus=1')).toEqual({
      page: 'site',
      site: 'blog.test',
      params: { range: '30d', interval: 'hour', uniques: 'visitors', page: '/post/1', referrer: '(direct)', source: 'Google' },
    });
    // A path with spaces and a query of its own stays one param.
    expect(parseRoute('#/sites/blog.test?page=%2Fa+b%3Fx%3D1%26y%3D2').params.page).toBe('/a b?x=1&y=2');
    for (const hash of [
      '#/sites',
      '#/sites/blog.test',
      '#/sites/blog.test?range=12m&interval=week',
      '#/sites/blog.test?from=2026-11-01&to=2026-11-30&uniques=visitors',
      '#/sites/blog.test?source=Google&page=%2Fpost%2F1&referrer=%28direct%29',
      '#/sites/a%20b%2Fc?page=%2Fa+b%3Fx%3D1%26y%3D2&interval=month',
    ]) {
      expect(formatRoute(parseRoute(hash))).toBe(hash);
    }
    expect(parseRoute('#/sites/a%20b%2Fc').site).toBe('a b/c');
    // Params round-trip through format, whatever order they are set in.
    const route = { page: 'site' as const, site: 'blog.test', params: { uniques: 'visitors', page: '/p', interval: 'hour', referrer: 'news.ycombinator.com' } };
    expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(formatRoute(withParams(route, { page: undefined, uniques: undefined }))).toBe('#/sites/blog.test?referrer=news.ycombinator.com&interval=hour');
    expect(formatRoute({ page: 'site', params: {} })).toBe('#/sites');
  });

  test('withParams changes and removes params', () => {
    const route = parseRoute('#/orgs/acme?team=core&repo=api');
    expect(formatRoute(withParams(route, { team: undefined, range: '12m' }))).toBe('#/orgs/acme?range=12m&repo=api');
  });

  test('ranges resolve to inclusive UTC days', () => {
    const today = new Date('2026-03-31T23:30:00Z');
    expect(resolveRange({}, today)).toEqual({ from: '2026-01-01', to: '2026-03-31' });
    expect(resolveRange({ range: '30d' }, today)).toEqual({ from: '2026-03-02', to: '2026-03-31' });
    expect(resolveRange({ range: '12m' }, today)).toEqual({ from: '2025-04-01', to: '2026-03-31' });
    expect(resolveRange({ range: 'all' }, today)).toEqual({});
    expect(resolveRange({ range: '30d', from: '2026-01-01' }, today)).toEqual({ from: '2026-01-01', to: undefined });
  });

  test('days between two days, and the millisecond a day starts at', () => {
    expect(daysBetween('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(daysBetween('2026-03-01', '2026-02-27')).toEqual([]);
    expect(dayStartMs('2026-11-29')).toBe(1_795_910_400_000);
    // GET /events?ts_day= takes only multiples of a day.
    expect(dayStartMs('1970-01-02')! % 86_400_000).toBe(0);
    for (const bad of ['2026-02-30', '2026-13-01', '29.11.2026', '', '2026-11-29T00:00:00Z']) {
      expect(dayStartMs(bad), bad).toBeUndefined();
    }
  });
});
