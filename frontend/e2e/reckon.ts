// Starts the real `reckon serve` binary on port 0 with a fresh data dir (and a config file
// when given) and picks up the admin read token it writes there, signs and posts webhooks
// to it exactly as GitHub does (HMAC-SHA256 over the raw body), runs its CLI against the
// same data (API keys, read tokens), and submits game-server events.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export interface Reckon {
  url: string;
  secret: string;
  /** The admin read token `reckon serve` wrote to `<data dir>/admin-token` on its first start. */
  token: string;
  /** `--config` and `--data-dir` of this server, for its CLI. */
  cliArgs: string[];
  stop(): Promise<void>;
}

export const SECRET = 'e2e-webhook-secret';

/** The binary under test: $RECKON_BIN, else the workspace's debug build. */
export function reckonBinary(): string {
  const bin = process.env.RECKON_BIN ?? resolve(import.meta.dirname, '../../target/debug/reckon');
  if (!existsSync(bin)) {
    throw new Error(`no reckon binary at ${bin}: run \`cargo build\` first, or set RECKON_BIN`);
  }
  return bin;
}

/** Starts `reckon serve`; `config` is the text of its reckon.toml, if it needs one. */
export async function startReckon(config?: string): Promise<Reckon> {
  const root = mkdtempSync(join(tmpdir(), 'reckon-e2e-'));
  const dataDir = join(root, 'data');
  const cliArgs = ['--data-dir', dataDir];
  if (config !== undefined) {
    const file = join(root, 'reckon.toml');
    writeFileSync(file, config);
    cliArgs.unshift('--config', file);
  }
  const child: ChildProcess = spawn(reckonBinary(), [...cliArgs, 'serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, RECKON_GITHUB_WEBHOOK_SECRET: SECRET, RECKON_LOG_LEVEL: 'warn', RECKON_LOG_FORMAT: 'text' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /reckon is listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`reckon exited with ${code} before listening:\n${stdout}\n${stderr}`)));
  });
  // Written before the listening line, on the first start on a loopback address.
  const token = existsSync(join(dataDir, 'admin-token')) ? readFileSync(join(dataDir, 'admin-token'), 'utf8').trim() : '';
  if (!token.startsWith('rkt_')) {
    child.kill('SIGTERM');
    throw new Error(`reckon wrote no rkt_ read token to ${dataDir}/admin-token before listening`);
  }
  return {
    url,
    secret: SECRET,
    token,
    cliArgs,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

let deliveries = 0;

/** Posts one signed GitHub webhook; fails unless Reckon stored it (200). */
export async function postGithub(reckon: Reckon, event: string, body: string | object): Promise<void> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = 'sha256=' + createHmac('sha256', reckon.secret).update(raw).digest('hex');
  const response = await fetch(`${reckon.url}/hooks/github`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': `e2e-${process.pid}-${++deliveries}`,
      'X-GitHub-Hook-ID': '1',
      'X-Hub-Signature-256': signature,
    },
    body: raw,
  });
  if (response.status !== 200) {
    throw new Error(`${event} delivery answered ${response.status}: ${await response.text()}`);
  }
}

/** Runs the reckon CLI on the server's config and data dir; resolves to its stdout. */
export async function reckonCli(reckon: Reckon, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(reckonBinary(), [...reckon.cliArgs, ...args], {
    env: { ...process.env, RECKON_LOG_LEVEL: 'warn' },
  });
  return stdout;
}

/** Creates an API key with `reckon keys add`; the key is the word of its output starting `rk_`. */
export async function addKey(reckon: Reckon, source: string, src: string): Promise<string> {
  const out = await reckonCli(reckon, 'keys', 'add', '--source', source, '--src', src);
  const key = /\brk_\S+/.exec(out)?.[0];
  if (!key) throw new Error(`\`reckon keys add\` printed no rk_ key:\n${out}`);
  return key;
}

/** A read token made with `reckon tokens add`, and its id (the part between `rkt_` and the next `_`). */
export interface ReadToken {
  token: string;
  id: string;
}

/** Creates a read token with `reckon tokens add`; the token is the word of its output starting `rkt_`. */
export async function addToken(reckon: Reckon, name: string, scopes: string[], expiresIn?: string): Promise<ReadToken> {
  const args = ['tokens', 'add', '--name', name, ...scopes.flatMap((s) => ['--scope', s])];
  if (expiresIn) args.push('--expires-in', expiresIn);
  const out = await reckonCli(reckon, ...args);
  const match = /\b(rkt_([a-z0-9]+)_\S+)/.exec(out);
  if (!match) throw new Error(`\`reckon tokens add\` printed no rkt_ token:\n${out}`);
  return { token: match[1]!, id: match[2]! };
}

/** Revokes a read token with `reckon tokens revoke`. */
export async function revokeToken(reckon: Reckon, id: string): Promise<void> {
  await reckonCli(reckon, 'tokens', 'revoke', id);
}

/** GETs a stats read from Node with a read token (the admin one by default); fails unless 200. */
export async function readApi<T>(reckon: Reckon, path: string, token = reckon.token): Promise<T> {
  const response = await fetch(`${reckon.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status !== 200) {
    throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as T;
}

/** Posts server events to /submit with a key, as a DCSS server does; fails unless stored (204). */
export async function submit(reckon: Reckon, key: string, events: object | object[]): Promise<void> {
  const response = await fetch(`${reckon.url}/submit`, {
    method: 'POST',
    headers: { Authorization: key, 'Content-Type': 'application/json' },
    body: JSON.stringify(events),
  });
  if (response.status !== 204) {
    throw new Error(`/submit answered ${response.status}: ${await response.text()}`);
  }
}
