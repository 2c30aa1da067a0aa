// Starts the real `reckon serve` binary on port 0 with a fresh data dir, and signs and
// posts webhooks to it exactly as GitHub does (HMAC-SHA256 over the raw body).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Reckon {
  url: string;
  secret: string;
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

export async function startReckon(): Promise<Reckon> {
  const dataDir = mkdtempSync(join(tmpdir(), 'reckon-e2e-'));
  const child: ChildProcess = spawn(reckonBinary(), ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
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
  return {
    url,
    secret: SECRET,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
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
