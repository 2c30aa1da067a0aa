// Coding time end to end: a real `reckon serve` with heartbeats posted the way wakatime-cli
// posts them (`POST /api/v1/users/current/heartbeats.bulk`, the key from `reckon keys add
// --source heartbeats --user ada` as HTTP Basic), then the dashboard's coding pages in
// Debian's headless Chromium, signed in with the admin read token.

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HeartbeatUsersAnswer, StatusBarAnswer } from '../src/api/client';
import { codingTime } from '../src/format';
import { TOKEN_KEY } from '../src/session';
import { readApi, reckonCli, startReckon, type Reckon } from './reckon';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const USER = 'ada';
/** What wakatime-cli in VS Code on Linux says it is; the server reads editor and OS from it. */
const USER_AGENT = 'wakatime/v1.98.0 (linux-6.1.0-amd64-x86_64) go1.22.0 vscode/1.95.0 vscode-wakatime/24.6.0';

let reckon: Reckon;
let browser: Browser;
/** When the heartbeats were sent, in Unix seconds. */
let now = 0;

/** Creates a heartbeat key; `reckon keys add` prints the bare UUID on its own indented line. */
async function addHeartbeatKey(user: string): Promise<string> {
  const out = await reckonCli(reckon, 'keys', 'add', '--source', 'heartbeats', '--user', user);
  const key = /^\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$/im.exec(out)?.[1];
  if (!key) throw new Error(`\`reckon keys add --source heartbeats\` printed no key on a line of its own:\n${out}`);
  return key;
}

/** Heartbeats every two minutes from `from` to `to` (Unix seconds, inclusive) on one file. */
function beats(from: number, to: number, project: string, entity: string, language: string, branch: string): object[] {
  const out: object[] = [];
  for (let time = from; time <= to; time += 120) {
    out.push({ entity, type: 'file', category: 'coding', time, project, branch, language, is_write: true, lines: 120, lineno: 10, cursorpos: 1, user_agent: USER_AGENT });
  }
  return out;
}

/** Posts heartbeats as wakatime-cli does: the key base64-encoded as HTTP Basic. */
async function postHeartbeats(key: string, heartbeats: object[]): Promise<void> {
  const response = await fetch(`${reckon.url}/api/v1/users/current/heartbeats.bulk`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(key).toString('base64')}`,
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
    },
    body: JSON.stringify(heartbeats),
  });
  if (response.status !== 201 && response.status !== 202) {
    throw new Error(`heartbeats.bulk answered ${response.status}: ${await response.text()}`);
  }
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.addInitScript(
    ([origin, key, value]) => {
      if (location.origin === origin && sessionStorage.getItem(key) === null) sessionStorage.setItem(key, value);
    },
    [new URL(reckon.url).origin, TOKEN_KEY, reckon.token] as const,
  );
  return page;
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

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
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));

/** Minutes since midnight in a time zone: the seeded hour must lie within today there. */
function minutesIntoDay(timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now * 1000));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  reckon = await startReckon();
  const key = await addHeartbeatKey(USER);
  now = Math.floor(Date.now() / 1000);
  // Two stretches further apart than the keystroke timeout (10 minutes by default): `site`
  // for 10 minutes, an hour ago; `reckon` for 20 minutes, ending a minute ago.
  await postHeartbeats(key, [
    ...beats(now - 3600, now - 3000, 'site', '/home/ada/site/src/index.ts', 'TypeScript', 'main'),
    ...beats(now - 1260, now - 60, 'reckon', '/home/ada/reckon/src/main.rs', 'Rust', 'feat/coding'),
  ]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await reckon?.stop();
});

describe('coding time', () => {
  test("the user's page shows today's total and the projects; a project shows its files", async () => {
    const { users } = await readApi<HeartbeatUsersAnswer>(reckon, '/api/v1/heartbeats/users');
    expect(users.map((u) => u.name)).toEqual([USER]);
    const timezone = users[0]!.timezone;
    const today = await readApi<StatusBarAnswer>(reckon, `/api/v1/users/${USER}/statusbar/today`);
    const seconds = today.data.grand_total.total_seconds;
    // The whole seeded hour is today in the user's zone unless the test runs just after midnight there.
    const wholeHourToday = minutesIntoDay(timezone) > 65;
    if (wholeHourToday) expect(seconds).toBe(1800);

    const page = await newPage();
    // The nav offers coding time; with one user, its page opens at once.
    await page.goto(`${reckon.url}/#/deliveries`);
    await page.getByRole('link', { name: 'Coding time' }).click();
    await expect.poll(() => page.url()).toContain(`#/coding/${USER}`);
    const line = page.locator('[data-testid="coding-today"][data-seconds]');
    await line.waitFor();
    expect(await line.getAttribute('data-seconds')).toBe(String(Math.floor(seconds)));
    expect((await line.textContent())?.replace(/\s+/g, ' ').trim()).toBe(`Today: ${codingTime(seconds)}`);
    if (wholeHourToday) expect((await line.textContent())?.replace(/\s+/g, ' ').trim()).toBe('Today: 30 mins');

    const projects = page.locator('[data-testid="coding-projects"]');
    await projects.locator('tbody tr').first().waitFor();
    if (wholeHourToday) {
      expect(await rows(page, 'coding-projects')).toEqual([
        ['reckon', '20 mins', '66.7%'],
        ['site', '10 mins', '33.3%'],
      ]);
      expect((await rows(page, 'coding-languages')).map((r) => r[0])).toEqual(['Rust', 'TypeScript']);
    } else {
      expect((await rows(page, 'coding-projects')).map((r) => r[0])).toContain('reckon');
    }
    const chart = page.locator('[data-testid="coding-chart"]');
    await chart.locator('canvas').waitFor();
    expect(await chart.getAttribute('data-by')).toBe('projects');
    await shot(page, 'coding');

    // A language filters the page, shown as a chip that removes it again.
    await page.locator('[data-testid="coding-languages"]').getByRole('link', { name: 'TypeScript' }).click();
    await expect.poll(() => page.url()).toContain('language=TypeScript');
    const chip = page.locator('[data-testid="coding-filters"] a.chip');
    await chip.waitFor();
    expect((await chip.textContent())?.replace(/\s+/g, ' ').trim()).toBe('Language: TypeScript ×');
    await expect.poll(async () => (await rows(page, 'coding-projects')).map((r) => r[0])).toEqual(['site']);
    await chip.click();
    await expect.poll(() => page.url()).not.toContain('language=');

    // A project's page lists its files and branches.
    await page.locator('[data-testid="coding-projects"]').getByRole('link', { name: 'reckon' }).click();
    await expect.poll(() => page.url()).toContain(`#/coding/${USER}/projects/reckon`);
    await page.locator('[data-testid="coding-files"] tbody tr').first().waitFor();
    expect((await rows(page, 'coding-files')).map((r) => r[0])).toEqual(['/home/ada/reckon/src/main.rs']);
    expect((await rows(page, 'coding-branches')).map((r) => r[0])).toEqual(['feat/coding']);
    expect(await page.locator('h1').textContent()).toBe('Project: reckon');
    await shot(page, 'coding-project');

    // The range presets rewrite the URL; all time asks from the first coding day.
    await page.getByRole('button', { name: 'All time' }).click();
    await expect.poll(() => page.url()).toContain('range=all_time');
    await expect.poll(() => page.locator('[aria-label="Date range"] button.on').textContent()).toContain('All time');
    await expect.poll(async () => (await rows(page, 'coding-files')).map((r) => r[0])).toEqual(['/home/ada/reckon/src/main.rs']);
    await page.close();
  });
});
