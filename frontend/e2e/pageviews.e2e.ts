// Page views end to end: a real `reckon serve`, a site registered with `reckon sites add`,
// and a test blog served from Node that counts its views the three ways a site can: the
// real npm Plausible tracker (`@plausible-analytics/tracker`, POST /api/event), a beacon
// (`navigator.sendBeacon` to /api/v1/beacon) and the live WebSocket (/api/v1/live), with
// a second tab that follows the article's counter. Then the dashboard's site page in
// Debian's headless Chromium, updating live from the site's event stream.
//
// The binary under test embeds the dashboard it was built with, which may predate this
// checkout's; so the dashboard is built here from the sources with Vite and served beside
// the blog, reading Reckon's API across origins (`api.cors_origins`), as a dashboard on a
// CDN does.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SiteStats } from '../src/api/client';
import { TOKEN_KEY } from '../src/session';
import { readApi, reckonCli, startReckon, type Reckon } from './reckon';

const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SITE = 'blog.test';
/** A desktop Chrome: headless Chromium's own User-Agent says `HeadlessChrome`, which Reckon drops. */
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Googlebot/2.1 (+http://www.google.com/bot.html)';
const TRACKER = createRequire(import.meta.url).resolve('@plausible-analytics/tracker');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let reckon: Reckon;
let browser: Browser;
let blog: Server;
/** The blog's origin, `http://127.0.0.1:PORT`: the site's allowed origin, and the dashboard's. */
let origin = '';
let dashboardDir = '';

/** What the test pages do, as they expose it to the test. */
interface BlogWindow {
  __plausible?: boolean;
  /** Resolves once the live socket is open. */
  openLive(): Promise<void>;
  /** Sends one message on the live socket; resolves to the next answer. */
  sendLive(message: object): Promise<LiveAnswer>;
  /** Every message the live socket received, answers and pushes. */
  liveMessages: LiveAnswer[];
  sendBeacon(body: object): boolean;
}
interface LiveAnswer {
  message: string;
  articleId?: string;
  views?: number;
  uniques?: number;
}

/** The live socket and beacon helpers both test pages load. */
function liveScript(reckonUrl: string): string {
  const ws = reckonUrl.replace(/^http/, 'ws');
  return `
window.liveMessages = [];
let socket;
let waiting = [];
window.openLive = () => new Promise((resolve, reject) => {
  socket = new WebSocket(${JSON.stringify(`${ws}/api/v1/live?site=${SITE}`)});
  socket.onopen = () => resolve();
  socket.onerror = () => reject(new Error('the live socket failed'));
  socket.onmessage = (e) => {
    const message = JSON.parse(e.data);
    window.liveMessages.push(message);
    const next = waiting.shift();
    if (next) next(message);
  };
});
window.sendLive = (message) => new Promise((resolve) => {
  waiting.push(resolve);
  socket.send(JSON.stringify(message));
});
window.sendBeacon = (body) => navigator.sendBeacon(${JSON.stringify(`${reckonUrl}/api/v1/beacon`)}, JSON.stringify(body));
`;
}

/** The blog's article: Plausible's tracker from npm, counting the page view on load. */
function articlePage(reckonUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Post 1</title></head>
<body><h1>Post 1</h1>
<script src="/live.js"></script>
<script type="module">
  import { init } from '/tracker.js';
  init({ domain: ${JSON.stringify(SITE)}, endpoint: ${JSON.stringify(`${reckonUrl}/api/event`)}, captureOnLocalhost: true });
</script>
</body></html>`;
}

/** A reader's tab without the tracker: it only follows the live counter. */
function readerPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reader</title></head>
<body><h1>Reader</h1><script src="/live.js"></script></body></html>`;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves the blog's pages, the tracker, and the built dashboard under `/dash/`. */
function startBlog(): Promise<void> {
  blog = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (path === '/post-1') return send(200, TYPES['.html']!, articlePage(reckon.url));
    if (path === '/reader') return send(200, TYPES['.html']!, readerPage());
    if (path === '/live.js') return send(200, TYPES['.js']!, liveScript(reckon.url));
    if (path === '/tracker.js') return send(200, TYPES['.js']!, readFileSync(TRACKER));
    if (path === '/favicon.ico') return send(204, 'text/plain', '');
    if (path.startsWith('/dash/')) {
      const rel = normalize(path.slice('/dash/'.length) || 'index.html');
      if (rel.startsWith('..')) return send(404, 'text/plain', 'not found');
      try {
        return send(200, TYPES[extname(rel)] ?? 'application/octet-stream', readFileSync(join(dashboardDir, rel)));
      } catch {
        return send(404, 'text/plain', 'not found');
      }
    }
    send(404, 'text/plain', 'not found');
  });
  return new Promise((ready) =>
    blog.listen(0, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${(blog.address() as AddressInfo).port}`;
      ready();
    }),
  );
}

/** The site's stats, as the admin reads them. */
const siteStats = () => readApi<SiteStats>(reckon, `/api/v1/sites/${SITE}/stats`);

/** Posts a beacon from Node, as `User-Agent`, from the blog's origin. */
async function nodeBeacon(userAgent: string, path: string): Promise<void> {
  const response = await fetch(`${reckon.url}/api/v1/beacon`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', 'User-Agent': userAgent, Origin: origin },
    body: JSON.stringify({ site: SITE, p: path, u: 1 }),
  });
  expect(response.status, `beacon as ${userAgent}`).toBe(204);
}

/** A browser context that looks like a desktop Chrome to the tracker and to Reckon. */
async function blogContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 900 } });
  // The tracker ignores automated browsers (`navigator.webdriver`) unless this is set.
  await context.addInitScript(() => {
    (window as unknown as BlogWindow).__plausible = true;
  });
  return context;
}

/** A dashboard tab, signed in with the admin read token the way the sign-in form keeps it. */
async function dashboardPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.addInitScript(
    ([o, key, value]) => {
      if (location.origin === o && sessionStorage.getItem(key) === null) sessionStorage.setItem(key, value);
    },
    [origin, TOKEN_KEY, reckon.token] as const,
  );
  return page;
}

/** Screenshots the page, which also passes axe-core's WCAG A and AA rules without a serious finding. */
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  expect(violations, `accessibility of ${name}`).toEqual([]);
}

const rows = (page: Page, testId: string) =>
  page
    .locator(`[data-testid="${testId}"] tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.replace(/\s+/g, ' ').trim())));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await startBlog();
  reckon = await startReckon(`[api]\ncors_origins = [${JSON.stringify(origin)}]\n`);
  const out = await reckonCli(reckon, 'sites', 'add', SITE, '--origin', origin, '--public-live');
  expect(out).toContain(SITE);
  // The dashboard of this checkout, reading the API of the server under test.
  dashboardDir = mkdtempSync(join(tmpdir(), 'reckon-dash-'));
  process.env.VITE_RECKON_API_BASE = reckon.url;
  await build({ root: ROOT, configFile: resolve(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dashboardDir, emptyOutDir: true } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await reckon?.stop();
  await new Promise((r) => (blog ? blog.close(r) : r(undefined)));
  if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
});

/**
 * Opens the live WebSocket from Node as a page of the blog would (its `Origin`), to say
 * what the server answered when a browser's socket fails (a browser does not tell).
 */
function handshake(): Promise<{ status: number; body: string }> {
  return new Promise((resolveAnswer, reject) => {
    const request = httpRequest(`${reckon.url}/api/v1/live?site=${SITE}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        Origin: origin,
        'User-Agent': DESKTOP_UA,
      },
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolveAnswer({ status: response.statusCode ?? 0, body: '' });
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolveAnswer({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const LIVE_VIEW = { message: 'views', articleId: 'post-1', articleTitle: 'Post 1', previousPage: '', currentPage: '/post-1', refreshed: false, referrer: '' };

describe('page views', () => {
  test('the npm tracker and a beacon count; a bot is dropped', async () => {
    const context = await blogContext();
    const tab = await context.newPage();
    tab.on('pageerror', (e) => console.error('blog page error:', e.message));
    // The real tracker posts the page view to /api/event on load.
    const tracked = tab.waitForResponse((r) => r.url() === `${reckon.url}/api/event` && r.request().method() === 'POST');
    await tab.goto(`${origin}/post-1`);
    expect((await tracked).status()).toBe(202);
    await expect.poll(async () => (await siteStats()).totals.views).toBe(1);

    // A beacon, as a page sends one when it is left.
    expect(await tab.evaluate(() => (window as unknown as BlogWindow).sendBeacon({ site: 'blog.test', p: '/beaconed', u: 1 }))).toBe(true);
    await expect.poll(async () => (await siteStats()).totals.views).toBe(2);
    const stats = await siteStats();
    expect(stats.pages.map((p) => [p.name, p.views]).sort()).toEqual([['/beaconed', 1], ['/post-1', 1]]);
    expect(stats.entry_pages.map((p) => p.name).sort()).toEqual(['/beaconed', '/post-1']);
    expect(stats.dropped).toEqual([]);

    // Googlebot's beacon is filtered out, not counted.
    await nodeBeacon(GOOGLEBOT, '/post-1');
    await expect.poll(async () => (await siteStats()).dropped).toEqual([{ reason: 'bot', count: 1 }]);
    expect((await siteStats()).totals.views).toBe(2);
    await context.close();
  });

  test('live views over the WebSocket count, and a second tab following the article gets the push', async () => {
    const initial = await siteStats();
    const before = initial.totals.views;
    const uniquesBefore = initial.totals.uniques;
    const post1Before = initial.pages.find((p) => p.name === '/post-1')?.views ?? 0;
    // A browser hides why a socket failed; Node shows the server's answer.
    const answer = await handshake();
    expect(answer, `GET /api/v1/live?site=${SITE} as a WebSocket from ${origin}`).toEqual({ status: 101, body: '' });

    const context = await blogContext();
    const tab = await context.newPage();
    await tab.goto(`${origin}/reader`);
    await tab.evaluate(() => (window as unknown as BlogWindow).openLive());
    // A view over the live socket is answered with the article's counters.
    const first = await tab.evaluate((m) => (window as unknown as BlogWindow).sendLive(m), LIVE_VIEW);
    expect(first).toMatchObject({ message: 'views', articleId: 'post-1' });
    expect(first.views).toBeGreaterThanOrEqual(1);

    // A second tab follows the article; its subscription is answered with the counters so far.
    const reader = await context.newPage();
    await reader.goto(`${origin}/reader`);
    await reader.evaluate(() => (window as unknown as BlogWindow).openLive());
    const subscribed = await reader.evaluate(() => (window as unknown as BlogWindow).sendLive({ message: 'subscribe', articleId: 'post-1' }));
    expect(subscribed).toMatchObject({ message: 'views', articleId: 'post-1', views: first.views });

    // Another view in the first tab is pushed to the second. (The first tab follows the
    // article too since its view, so its answer and pushes may interleave: no answer is
    // awaited here, the reader's push is.)
    await tab.evaluate((m) => void (window as unknown as BlogWindow).sendLive(m), { ...LIVE_VIEW, refreshed: true });
    await reader.waitForFunction(
      (seen) => (window as unknown as BlogWindow).liveMessages.some((m) => m.message === 'views' && m.articleId === 'post-1' && (m.views ?? 0) > seen),
      subscribed.views!,
    );
    const pushed = await reader.evaluate(() => (window as unknown as BlogWindow).liveMessages.at(-1));
    expect(pushed).toMatchObject({ message: 'views', articleId: 'post-1', views: subscribed.views! + 1 });

    // Both live views are in the stats; the refreshed one is not unique by the client's flag.
    await expect.poll(async () => (await siteStats()).totals.views).toBe(before + 2);
    const stats = await siteStats();
    expect(stats.totals.uniques).toBe(uniquesBefore + 1);
    expect(stats.pages.find((p) => p.name === '/post-1')?.views).toBe(post1Before + 2);
    await context.close();
  });

  test('the dashboard lists the site and shows its page, updating live', async () => {
    const initial = await siteStats();
    const before = initial.totals;
    expect(before.views).toBeGreaterThan(0);
    const post1 = initial.pages.find((p) => p.name === '/post-1')!.views;
    const page = await dashboardPage();
    // Stats reads the page makes, started and answered: there is no polling, so a read
    // after the page settled was caused by the live stream.
    const reads = { started: 0, done: 0 };
    const isStats = (url: string) => url.startsWith(`${reckon.url}/api/v1/sites/${SITE}/stats`);
    page.on('request', (r) => void (isStats(r.url()) && reads.started++));
    page.on('requestfinished', (r) => void (isStats(r.url()) && reads.done++));
    page.on('requestfailed', (r) => void (isStats(r.url()) && reads.done++));
    await page.goto(`${origin}/dash/#/sites`);
    await page.locator('[data-testid="sites"] tr[data-site="blog.test"]').waitFor();
    expect(await rows(page, 'sites')).toEqual([[SITE, origin, 'public', 'no']]);
    // The nav offers sites once one is readable.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Sites' }).waitFor();
    await page.getByRole('link', { name: SITE }).click();
    await expect.poll(() => page.url()).toContain(`#/sites/${SITE}`);

    const totals = page.locator('[data-testid="site-totals"]');
    await totals.waitFor();
    expect(await totals.getAttribute('data-views')).toBe(String(before.views));
    expect(await page.locator('[data-testid="site-total-views"] .card-value').textContent()).toBe(String(before.views));
    expect(await page.locator('[data-testid="site-total-uniques"] .card-value').textContent()).toBe(String(before.uniques));
    expect(await page.locator('[data-testid="site-total-visitors"] .card-value').textContent()).toBe(String(before.visitors));
    await page.locator('[data-testid="site-chart"] canvas').waitFor();
    expect((await rows(page, 'site-pages')).map((r) => r[0]).sort()).toEqual(['/beaconed', '/post-1']);
    expect(await page.locator('[data-testid="site-dropped"] tr[data-reason="bot"] td.num').textContent()).toBe('1');
    // The stream is open: the indicator says live.
    await page.locator('[data-testid="site-live"][data-state="live"]').waitFor();
    await shot(page, 'sites');

    // One more view, from Node: the page reads again on the stream's event, without a reload.
    await expect.poll(() => reads.started > 0 && reads.done === reads.started).toBe(true);
    const settled = reads.started;
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await nodeBeacon(DESKTOP_UA, '/live-one');
    await page.waitForFunction((views) => document.querySelector('[data-testid="site-totals"]')?.getAttribute('data-views') === String(views), before.views + 1);
    expect(await page.locator('[data-testid="site-total-views"] .card-value').textContent()).toBe(String(before.views + 1));
    await expect.poll(async () => (await rows(page, 'site-pages')).map((r) => r[0])).toContain('/live-one');
    expect(navigations).toEqual([]);
    expect(reads.started).toBeGreaterThan(settled);

    // The unique toggle lives in the URL.
    await page.getByRole('link', { name: 'visitors (daily hash)' }).click();
    await expect.poll(() => page.url()).toContain('uniques=visitors');
    await expect.poll(() => page.locator('[data-testid="site-chart"]').getAttribute('data-uniques')).toBe('visitors');

    // A page row filters the site by it, shown as a chip that removes it again.
    await page.locator('[data-testid="site-pages"]').getByRole('link', { name: '/post-1' }).click();
    await expect.poll(() => page.url()).toContain('page=%2Fpost-1');
    const chip = page.locator('[data-testid="site-filters"] a.chip');
    await chip.waitFor();
    expect((await chip.textContent())?.replace(/\s+/g, ' ').trim()).toBe('Page: /post-1 ×');
    await expect.poll(async () => (await rows(page, 'site-pages')).map((r) => r[0])).toEqual(['/post-1']);
    await expect.poll(() => page.locator('[data-testid="site-totals"]').getAttribute('data-views')).toBe(String(post1));
    await chip.click();
    await expect.poll(() => page.url()).not.toContain('page=');

    // Hours: the interval is a URL param too. Hours of the default 90 days would be too
    // many bars, so the page shows days and says so, until the range is shorter.
    await page.getByRole('group', { name: 'Interval' }).getByRole('button', { name: 'Hour' }).click();
    await expect.poll(() => page.url()).toContain('interval=hour');
    await page.locator('[data-testid="site-interval-note"]').waitFor();
    expect(await page.locator('[data-testid="site-chart"] h2').textContent()).toBe('Views per day');
    await page.getByRole('button', { name: '30 days' }).click();
    await expect.poll(() => page.url()).toContain('range=30d');
    await expect.poll(() => page.locator('[data-testid="site-chart"] h2').textContent()).toBe('Views per hour');
    expect(await page.locator('[data-testid="site-interval-note"]').count()).toBe(0);
    await page.locator('[data-testid="site-chart"] canvas').waitFor();
    await page.close();
  });
});
