// Seeds Reckon from the real GitHub payloads in ../shared/fixtures/github-webhooks: first
// every fixture as it is, then an org built from fixture templates with known teams,
// members and PRs, so the tests know exactly which numbers the dashboard must show; and a
// game server's milestones and games, submitted with keys made by the real CLI to a public
// source and to a private one.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { addKey, postGithub, submit, type Reckon } from './reckon';

export const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/github-webhooks');

function fixture(path: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, path), 'utf8'));
}

/** Replays every fixture payload as received, signed; returns how many. */
export async function replayFixtures(reckon: Reckon): Promise<number> {
  let n = 0;
  const events = readdirSync(FIXTURES, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const event of events) {
    if (!event.isDirectory()) continue;
    for (const file of readdirSync(join(FIXTURES, event.name)).sort()) {
      if (!file.endsWith('.json')) continue;
      await postGithub(reckon, event.name, readFileSync(join(FIXTURES, event.name, file), 'utf8'));
      n++;
    }
  }
  return n;
}

export const ORG = 'Octo-Dash';
const ORG_ID = 9_100_000;
const USERS = { ann: 9_100_001, ben: 9_100_002, cat: 9_100_003, dan: 9_100_004 } as const;
type User = keyof typeof USERS;
export const TEAMS: Record<string, { id: number; name: string; members: User[] }> = {
  core: { id: 9_200_001, name: 'Core', members: ['ann', 'ben'] },
  docs: { id: 9_200_002, name: 'Docs', members: ['cat'] },
};
const REPOS = { api: 9_300_001, web: 9_300_002 } as const;
type RepoName = keyof typeof REPOS;

/** First day of the seeded PRs: Monday 2026-01-05. Eight weeks follow. */
export const FIRST_DAY = '2026-01-05';
export const LAST_DAY = '2026-03-01';

export interface SeededPr {
  number: number;
  author: User;
  repo: RepoName;
  created: string;
  merged?: string;
  closed?: string;
}

/** The PRs of the demo org: a fixed pattern per week, so every count is known. */
export function demoPrs(): SeededPr[] {
  const prs: SeededPr[] = [];
  const start = Date.parse(`${FIRST_DAY}T10:00:00Z`);
  const at = (days: number, hours = 0) => new Date(start + days * 86_400_000 + hours * 3_600_000).toISOString().replace('.000', '');
  let number = 1;
  for (let week = 0; week < 8; week++) {
    const d = week * 7;
    prs.push({ number: number++, author: 'ann', repo: 'api', created: at(d), merged: at(d + 1) });
    prs.push({ number: number++, author: 'ann', repo: 'api', created: at(d + 1), ...(week < 7 ? { merged: at(d + 3) } : {}) });
    prs.push({ number: number++, author: 'ben', repo: 'web', created: at(d + 2), ...(week % 2 ? { closed: at(d + 4) } : { merged: at(d + 2, 5) }) });
    if (week % 2 === 0) prs.push({ number: number++, author: 'cat', repo: 'web', created: at(d + 3), merged: at(d + 5) });
    if (week >= 6) prs.push({ number: number++, author: 'dan', repo: 'api', created: at(d + 4) });
  }
  return prs;
}

export function expectedSummary(prs = demoPrs()) {
  return {
    repos: Object.keys(REPOS).length,
    teams: Object.keys(TEAMS).length,
    members: Object.keys(USERS).length,
    open: prs.filter((p) => !p.merged && !p.closed).length,
    merged: prs.filter((p) => p.merged).length,
    closed: prs.filter((p) => p.closed).length,
  };
}

const organization = () => ({ ...fixture('organization/member_added.payload.json').organization, login: ORG, id: ORG_ID });
const user = (login: User) => ({ ...fixture('membership/added.payload.json').member, login, id: USERS[login] });

function repository(name: RepoName) {
  const base = fixture('repository/created.payload.json').repository;
  return {
    ...base,
    id: REPOS[name],
    name,
    full_name: `${ORG}/${name}`,
    owner: { ...base.owner, login: ORG, id: ORG_ID, type: 'Organization' },
  };
}

/** Posts the demo org: repos, members, teams with their members, then every PR's history. */
export async function seedDemoOrg(reckon: Reckon): Promise<void> {
  for (const name of Object.keys(REPOS) as RepoName[]) {
    await postGithub(reckon, 'repository', { ...fixture('repository/created.payload.json'), repository: repository(name), organization: organization() });
  }
  const memberAdded = fixture('organization/member_added.payload.json');
  for (const login of Object.keys(USERS) as User[]) {
    await postGithub(reckon, 'organization', { ...memberAdded, organization: organization(), membership: { ...memberAdded.membership, user: user(login) } });
  }
  const added = fixture('membership/added.payload.json');
  for (const [slug, team] of Object.entries(TEAMS)) {
    for (const login of team.members) {
      await postGithub(reckon, 'membership', {
        ...added,
        organization: organization(),
        member: user(login),
        team: { ...added.team, id: team.id, slug, name: team.name },
      });
    }
  }
  const opened = fixture('pull_request/opened.payload.json');
  const closed = fixture('pull_request/closed.payload.json');
  for (const pr of demoPrs()) {
    const body = (template: any, state: 'open' | 'closed', updated: string, merged?: string, closedAt?: string) => ({
      ...template,
      number: pr.number,
      repository: repository(pr.repo),
      pull_request: {
        ...template.pull_request,
        id: 9_400_000 + pr.number,
        number: pr.number,
        title: `Change ${pr.number}`,
        user: user(pr.author),
        state,
        merged: Boolean(merged),
        created_at: pr.created,
        updated_at: updated,
        closed_at: closedAt ?? null,
        merged_at: merged ?? null,
        base: { ...template.pull_request.base, repo: repository(pr.repo) },
      },
    });
    await postGithub(reckon, 'pull_request', body(opened, 'open', pr.created));
    const end = pr.merged ?? pr.closed;
    if (end) await postGithub(reckon, 'pull_request', body(closed, 'closed', end, pr.merged, end));
  }
}

/** The server: a public source for one game server, and a private one beside it. */
export const CONFIG = `[sources.dcss]
auth = "api-key"
srcs = ["cpo"]
public = true

[sources.vault]
auth = "api-key"
srcs = ["cpo"]
`;

/** What the game server `cpo` submits to `dcss`, in this order. */
export const DCSS_EVENTS = [
  { type: 'milestone', src: 'cpo', data: { name: 'Blork', type: 'uniq', milestone: 'killed Sigmund.' } },
  { type: 'game', src: 'cpo', data: { name: 'Blork', ktyp: 'winning', sc: '1234', tmsg: 'escaped with the Orb' } },
  { type: 'milestone', src: 'cpo', data: { name: 'Zed', type: 'rune', milestone: 'found a slimy rune of Zot.' } },
  { type: 'milestone', src: 'cpo', data: { name: 'Zed', type: 'uniq', milestone: 'killed Ijyb.' } },
  { type: 'game', src: 'cpo', data: { name: 'Zed', ktyp: 'mon', sc: '55', tmsg: 'slain by an orc' } },
];

/** What `cpo` submits to the private `vault`: only tokens with `source:vault` (or admin) read it. */
export const VAULT_EVENTS = [{ type: 'milestone', src: 'cpo', data: { name: 'Quiet', type: 'uniq', milestone: 'killed Psyche.' } }];

/**
 * Makes a key for `cpo` with `reckon keys add` and submits DCSS_EVENTS: one alone, then
 * the rest as a list; then VAULT_EVENTS with a key of the private source.
 */
export async function seedServerEvents(reckon: Reckon): Promise<void> {
  const key = await addKey(reckon, 'dcss', 'cpo');
  const [first, ...rest] = DCSS_EVENTS;
  await submit(reckon, key, first!);
  await submit(reckon, key, rest);
  await submit(reckon, await addKey(reckon, 'vault', 'cpo'), VAULT_EVENTS);
}
