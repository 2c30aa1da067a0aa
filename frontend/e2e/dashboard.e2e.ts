// The dashboard end to end: a real `reckon serve` seeded with signed fixture webhooks,
// driven in Debian's headless Chromium. Every page is screenshotted into e2e/artifacts/.
// Pages sign in with the admin read token the server made, unless a test says otherwise.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TOKEN_KEY } from '../src/session';
import { addToken, postGithub, readApi, revokeToken, startReckon, type Reckon } from './reckon';
import { CONFIG, DCSS_EVENTS, demoPrs, expectedSummary, FIRST_DAY, LAST_DAY, ORG, replayFixtures, seedDemoOrg, seedServerEvents, TEAMS, VAULT_EVENTS } from './seed';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RANGE = `from=${FIRST_DAY}&to=${LAST_DAY}`;

let reckon: Reckon;
let browser: Browser;
let fixtures = 0;

/**
 * A page in a fresh browser context, signed in as `token` on the test server by seeding
 * the session storage the sign-in form would fill; `null`: signed out.
 */
async function newPage(token: string | null = reckon.token): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  if (token) {
    await page.addInitScript(
      ([origin, key, value]) => {
        if (location.origin === origin && sessionStorage.getItem(key) === null) sessionStorage.setItem(key, value);
      },
      [new URL(reckon.url).origin, TOKEN_KEY, token] as const,
    );
  }
  return page;
}

/** Signs in through the form, as a reader does, and waits for the app to name the token. */
async function signIn(page: Page, token: string, remember = false, url = reckon.url): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Read token').fill(token);
  if (remember) await page.getByLabel('Remember me on this device').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid="signed-in-as"]').waitFor();
}

/** Where the page keeps tokens: the values of its session and local storage. */
const stored = (page: Page) =>
  page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }));

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage });
  await accessible(page, name);
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Every screenshotted page also passes axe-core's WCAG A and AA rules without a serious finding. */
async function accessible(page: Page, name: string): Promise<void> {
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

const text = async (page: Page, testId: string) =>
  (await page.locator(`[data-testid="${testId}"] .card-value`).textContent())?.trim();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  reckon = await startReckon(CONFIG);
  fixtures = await replayFixtures(reckon);
  await seedDemoOrg(reckon);
  await seedServerEvents(reckon);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await reckon?.stop();
});

describe('dashboard', () => {
  test('the overview shows the org counts and the range totals', async () => {
    const expected = expectedSummary();
    const page = await newPage();
    await page.goto(`${reckon.url}/#/orgs/octo-dash?${RANGE}`);
    await page.locator('[data-testid="count-repos"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe(ORG);
    expect(await text(page, 'count-repos')).toBe(String(expected.repos));
    expect(await text(page, 'count-teams')).toBe(String(expected.teams));
    expect(await text(page, 'count-members')).toBe(String(expected.members));
    expect(await text(page, 'count-open')).toBe(String(expected.open));
    expect(await text(page, 'count-merged')).toBe(String(expected.merged));
    expect(await text(page, 'count-closed')).toBe(String(expected.closed));
    expect(await text(page, 'range-opened')).toBe(String(demoPrs().length));
    const chart = page.locator('[data-testid="pr-chart"]');
    expect(await chart.getAttribute('data-opened')).toBe(String(demoPrs().length));
    await expect.poll(() => chart.locator('canvas').count()).toBe(1);
    const authors = await page.locator('[data-testid="top-authors"] tbody tr td:first-child').allTextContents();
    expect(authors[0]).toBe('ann');
    await shot(page, 'overview');
    // On a phone the same page reflows into one column, chart included.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.getBoundingClientRect().width)).toBeLessThan(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'overview-phone');
    await page.close();
  });

  test('filtering by team changes the chart', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/orgs/octo-dash?${RANGE}`);
    const chart = page.locator('[data-testid="pr-chart"]');
    await chart.locator('canvas').waitFor();
    const before = await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    await page.locator('select[name="team"] option[value="docs"]').waitFor({ state: 'attached' });
    await page.selectOption('select[name="team"]', 'docs');
    const docs = demoPrs().filter((p) => TEAMS.docs!.members.includes(p.author));
    await expect.poll(() => chart.getAttribute('data-opened')).toBe(String(docs.length));
    expect(page.url()).toContain('team=docs');
    await chart.locator('canvas').waitFor();
    const after = await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    expect(after).not.toBe(before);
    expect(await page.locator('[data-testid="pr-chart-caption"]').textContent()).toContain(`${docs.length} opened`);
    await shot(page, 'overview-team-docs');
    await page.close();
  });

  test('the teams table lists every team, and a team shows its members', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/orgs/octo-dash/teams?${RANGE}`);
    const rows = page.locator('[data-testid="teams-table"] tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(Object.keys(TEAMS).length);
    const core = demoPrs().filter((p) => TEAMS.core!.members.includes(p.author));
    const coreRow = page.locator('tr[data-team="core"] td');
    expect((await coreRow.nth(1).textContent())?.trim()).toBe('2');
    expect((await coreRow.nth(2).textContent())?.trim()).toBe(String(core.length));
    await shot(page, 'teams');
    await page.getByRole('link', { name: 'Core' }).click();
    await page.locator('[data-testid="team-members"] li').first().waitFor();
    expect(await page.locator('[data-testid="team-members"] li').allTextContents()).toEqual(['ann', 'ben']);
    expect(await page.locator('[data-testid="pr-chart"]').getAttribute('data-opened')).toBe(String(core.length));
    await shot(page, 'team-core');
    await page.close();
  });

  test('the delivery log updates live and filters by outcome', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/deliveries`);
    const rows = page.locator('[data-testid="deliveries-table"] tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    await postGithub(reckon, 'ping', { zen: 'Live updates work.', hook_id: 1 });
    await expect.poll(() => rows.first().locator('td').nth(2).textContent(), { timeout: 15_000 }).toBe('ping');
    // A forged delivery is rejected, stored nowhere, and shown as rejected.
    const forged = await fetch(`${reckon.url}/hooks/github`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'forged-1', 'X-Hub-Signature-256': 'sha256=' + '0'.repeat(64) },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    await page.selectOption('select[name="status"]', 'rejected');
    await expect.poll(() => page.locator('tr[data-status="rejected"]').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('tr[data-status="accepted"]').count()).toBe(0);
    expect(await page.locator('tr[data-status="rejected"]').textContent()).toContain('signature_invalid');
    await shot(page, 'deliveries-rejected');
    await page.selectOption('select[name="status"]', '');
    await rows.nth(10).waitFor();
    await shot(page, 'deliveries', false);
    await page.close();
  });

  test('events by day chart a source and list one day', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/events?range=30d&source=github`);
    const chart = page.locator('[data-testid="events-chart"]');
    await chart.locator('canvas').waitFor();
    const total = Number(await chart.getAttribute('data-total'));
    expect(total).toBeGreaterThanOrEqual(fixtures);
    const dayRows = page.locator('[data-testid="events-day"] tbody tr');
    await dayRows.first().waitFor();
    expect(await dayRows.count()).toBe(100);
    await dayRows.first().locator('summary').click();
    // The payload is rendered when the <details> toggle event fires, just after the click.
    await expect.poll(() => dayRows.first().locator('pre').textContent()).toMatch(/^\{\n {2}"/);
    await shot(page, 'events', false);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => dayRows.count()).toBe(200);
    await page.close();
  });

  test('the server-events page charts a game server, counts its milestones, games and players, and lists a day', async () => {
    const page = await newPage();
    // With no source named, the page opens the first source with server events.
    await page.goto(`${reckon.url}/#/orgs/octo-dash`);
    await page.getByRole('link', { name: 'Server events' }).click();
    await expect.poll(() => page.url()).toContain('#/sources/dcss');
    const chart = page.locator('[data-testid="source-chart"]');
    await chart.locator('canvas').waitFor();
    expect(await chart.getAttribute('data-total')).toBe(String(DCSS_EVENTS.length));
    expect(await chart.getAttribute('data-types')).toBe('milestone game');
    expect(await page.locator('[data-testid="source-chart"] .u-legend').textContent()).toContain('milestone');
    expect(await text(page, 'source-events')).toBe('5');
    expect(await text(page, 'source-milestone-count')).toBe('3');
    expect(await text(page, 'source-game-count')).toBe('2');
    expect(await text(page, 'source-wins')).toBe('1');
    const rows = (testId: string) =>
      page
        .locator(`[data-testid="${testId}"] tbody tr`)
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));
    expect(await rows('source-milestones')).toEqual([['uniq', '2'], ['rune', '1']]);
    expect(await rows('source-games')).toEqual([['mon', '1'], ['winning', '1']]);
    expect(await rows('top-by-games')).toEqual([['Blork', '1', '1'], ['Zed', '1', '0']]);
    expect(await rows('top-by-wins')).toEqual([['Blork', '1', '1']]);
    // The day the events were accepted is picked, and lists them in accepted order.
    const day = page.locator('[data-testid="source-day"]');
    await day.locator('tbody tr').first().waitFor();
    const listed = await rows('source-day');
    expect(listed.map((r) => r.slice(1))).toEqual([
      ['cpo', 'milestone', 'Blork', 'killed Sigmund.'],
      ['cpo', 'game', 'Blork', 'escaped with the Orb (score 1,234)'],
      ['cpo', 'milestone', 'Zed', 'found a slimy rune of Zot.'],
      ['cpo', 'milestone', 'Zed', 'killed Ijyb.'],
      ['cpo', 'game', 'Zed', 'slain by an orc (score 55)'],
    ]);
    for (const row of listed) expect(row[0]).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await day.getAttribute('data-day')).toBe(new Date().toISOString().slice(0, 10));
    await shot(page, 'source-dcss');
    // On a phone the page reflows into one column.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.getBoundingClientRect().width)).toBeLessThan(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'source-dcss-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    // Another day, picked in the day picker, had no events.
    await page.locator('[data-testid="source-day"] input[name="day"]').fill('2026-01-05');
    await expect.poll(() => page.url()).toContain('day=2026-01-05');
    await expect.poll(async () => (await day.textContent()) ?? '').toContain('No dcss events were accepted on 2026-01-05 (UTC).');
    await page.close();
  });

  test('the events page links to the server-events page, and the admin token reads the private source', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/events?source=dcss`);
    await page.getByRole('link', { name: 'Milestones, games and players of dcss' }).click();
    await expect.poll(() => page.url()).toContain('#/sources/dcss');
    await page.locator('[data-testid="source-chart"]').waitFor();
    await page.goto(`${reckon.url}/#/sources/vault`);
    const chart = page.locator('[data-testid="source-chart"]');
    await chart.waitFor();
    expect(await chart.getAttribute('data-total')).toBe(String(VAULT_EVENTS.length));
    await expect.poll(() => page.locator('select[name="source-page"] option').allTextContents()).toEqual(['dcss', 'vault']);
    await shot(page, 'source-vault');
    await page.close();
  });

  test('a bad API response shows the error state, and retry recovers', async () => {
    const page = await newPage();
    await page.route('**/api/v1/github/orgs/*/summary', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ code: 'internal', message: 'the store failed' }) }),
    );
    await page.goto(`${reckon.url}/#/orgs/octo-dash?${RANGE}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('internal');
    expect(await alert.textContent()).toContain('Reckon answered with an error (500)');
    expect(await alert.textContent()).toContain('the store failed');
    await shot(page, 'error-500');
    // A proxy's HTML error page is not a Reckon answer, and says so.
    await page.unroute('**/api/v1/github/orgs/*/summary');
    await page.route('**/api/v1/github/orgs/*/summary', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad Gateway</h1>' }),
    );
    await alert.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => alert.getAttribute('data-code')).toBe('bad_response');
    await page.unroute('**/api/v1/github/orgs/*/summary');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.locator('[data-testid="count-repos"]').waitFor();
    await page.close();
  });

  test('the drift panel says how to start reconciling, then shows a report', async () => {
    const page = await newPage();
    // No reconcile has run on this server: the real 404 becomes instructions.
    await page.goto(`${reckon.url}/#/orgs/${ORG}`);
    await page.getByRole('link', { name: 'Drift' }).click();
    await expect.poll(() => page.url()).toContain(`#/orgs/${ORG}/drift`);
    const state = page.getByRole('status');
    await expect.poll(async () => (await state.textContent()) ?? '').toContain(`reckon reconcile --org ${ORG}`);
    await shot(page, 'drift-none');
    // A report as the API serves it after a repair (captured by tests/it/reconcile.rs).
    const report = JSON.parse(readFileSync(resolve(import.meta.dirname, '../test/fixtures/drift.json'), 'utf8'));
    await page.route('**/api/v1/github/orgs/*/drift', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...report, org: ORG }) }),
    );
    await page.reload();
    await page.locator('[data-testid="drift-checks"]').waitFor();
    expect(await text(page, 'drift-now')).toBe('0');
    expect(await page.locator('[data-testid="drift-found"] tr.drifting').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="drift-tasks"]').textContent()).toContain('pull requests of repo0003');
    await shot(page, 'drift');
    await page.close();
  });

  test('an unknown org and an empty store tell the user what to do', async () => {
    const page = await newPage();
    await page.goto(`${reckon.url}/#/orgs/no-such-org`);
    await expect.poll(() => page.getByRole('alert').getAttribute('data-code')).toBe('not_found');
    const empty = await startReckon();
    try {
      // Another origin: this page holds no token for it yet.
      await signIn(page, empty.token, false, empty.url);
      const url = page.locator('[data-testid="webhook-url"]');
      await url.waitFor();
      expect(await url.textContent()).toBe(`${empty.url}/hooks/github`);
      await shot(page, 'empty-store');
    } finally {
      await empty.stop();
    }
    await page.close();
  });
});

describe('read tokens', () => {
  test("first load asks for a token; a wrong one shows the server's message, the admin token opens the page asked for", async () => {
    const page = await newPage(null);
    await page.goto(`${reckon.url}/#/orgs/octo-dash?${RANGE}`);
    const input = page.getByLabel('Read token');
    await input.waitFor();
    expect(await input.getAttribute('type')).toBe('password');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('read-token');
    expect(await page.locator('#nav a').count()).toBe(0);
    expect(await page.getByLabel('Remember me on this device').isChecked()).toBe(false);
    await shot(page, 'sign-in');
    const wrong = `rkt_${'0'.repeat(12)}_${'0'.repeat(40)}`;
    const refused = await fetch(`${reckon.url}/api/v1/token`, { headers: { Authorization: `Bearer ${wrong}` } });
    expect(refused.status).toBe(401);
    const body = (await refused.json()) as { code: string; message: string };
    expect(body.code).toBe('read_token_invalid');
    await input.fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('read_token_invalid');
    expect(await alert.textContent()).toBe(body.message);
    expect(await stored(page)).toEqual({ session: [], local: [] });
    await shot(page, 'sign-in-refused');
    await input.fill(reckon.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="count-repos"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe(ORG);
    const admin = await readApi<{ name: string }>(reckon, '/api/v1/token');
    expect(await page.locator('[data-testid="signed-in-as"] strong').textContent()).toBe(admin.name);
    expect(page.url()).not.toContain('rkt_');
    await page.close();
  });

  test('a token scoped to one org sees only that org, and not the private source', async () => {
    const all = await readApi<{ orgs: { org: string; login: string }[] }>(reckon, '/api/v1/github/orgs');
    const other = all.orgs.find((o) => o.org !== ORG.toLowerCase());
    expect(other, 'the fixtures seed orgs besides the demo org').toBeDefined();
    const { token } = await addToken(reckon, 'octo-dash-readers', [`github:${ORG.toLowerCase()}`]);
    const page = await newPage(null);
    await signIn(page, token);
    // Its one org opens at once, and the switcher offers no other.
    await page.locator('[data-testid="count-repos"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe(ORG);
    await expect.poll(() => page.locator('.org-switch option').allTextContents()).toEqual([ORG]);
    expect(await page.locator('[data-testid="signed-in-as"] strong').textContent()).toBe('octo-dash-readers');
    await page.goto(`${reckon.url}/#/orgs/${encodeURIComponent(other!.org)}`);
    await expect.poll(() => page.getByRole('alert').getAttribute('data-code')).toBe('not_found');
    expect(await page.getByRole('alert').textContent()).toContain('Nothing here yet');
    // The private source is in no list, and reads as unknown rather than as hidden.
    await page.goto(`${reckon.url}/#/events?range=all`);
    await page.locator('[data-testid="events-chart"], .state.empty').first().waitFor();
    expect(await page.locator('select[name="source"] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).not.toContain('vault');
    await page.goto(`${reckon.url}/#/sources/vault`);
    const state = page.locator('[data-testid="source-unknown"]');
    await state.waitFor();
    expect(await state.locator('h2').textContent()).toBe('vault takes no server events you can read');
    expect(await page.locator('[data-testid="source-chart"]').count()).toBe(0);
    await shot(page, 'source-scoped-out');
    await page.close();
  });

  test('revoking the signed-in token signs the reader out at the next read, saying why', async () => {
    const { token, id } = await addToken(reckon, 'revoked-soon', ['admin']);
    const page = await newPage(null);
    await signIn(page, token);
    await revokeToken(reckon, id);
    // The delivery log reads at once and then every few seconds.
    await page.getByRole('link', { name: 'Deliveries' }).click();
    const notice = page.locator('[data-testid="signed-out"]');
    await notice.waitFor();
    expect(await notice.textContent()).toBe('You were signed out: your read token is no longer valid (it was revoked, or Reckon does not know it).');
    await page.getByLabel('Read token').waitFor();
    expect(await page.locator('#nav a').count()).toBe(0);
    expect(await stored(page)).toEqual({ session: [], local: [] });
    await shot(page, 'signed-out');
    await page.close();
  });

  test('the token stays in this tab unless remembered, and signing out forgets it', async () => {
    // A context of its own, for a second tab that shares its local storage.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, reckon.token);
    expect(await stored(page)).toEqual({ session: [reckon.token], local: [] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Read token').waitFor();
    expect(await stored(page)).toEqual({ session: [], local: [] });
    await page.reload();
    await page.getByLabel('Read token').waitFor();
    // Remembered, it opens a second tab signed in, until signed out.
    await signIn(page, reckon.token, true);
    expect(await stored(page)).toEqual({ session: [], local: [reckon.token] });
    const second = await context.newPage();
    await second.goto(`${reckon.url}/`);
    await second.locator('[data-testid="signed-in-as"]').waitFor();
    await second.close();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Read token').waitFor();
    expect(await stored(page)).toEqual({ session: [], local: [] });
    await context.close();
  });
});
