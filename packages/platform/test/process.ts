/**
 * Runs the platform as a real child process (`openiomt start`), as a user would, so tests can kill it
 * with SIGKILL or stop it with SIGTERM and start it again on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, POSTGRES_URL_ENV } from '../src/store/testing.ts';

const BIN = fileURLToPath(new URL('../bin/openiomt.js', import.meta.url));

export interface PlatformProcess {
  readonly child: ChildProcess;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  /** Printed only at the first start on a data folder. */
  readonly adminToken?: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

export function startPlatformProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<PlatformProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--http-port', '0', '--mqtt-port', '0', '--log-level', 'warn', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform did not start:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const http = /HTTP\s+(\S+)/.exec(out)?.[1];
      const mqttUrl = /MQTT\s+(\S+)/.exec(out)?.[1];
      if (http && mqttUrl) {
        clearTimeout(timer);
        const token = /OPENIOMT_ADMIN_TOKEN=(\S+)/.exec(out)?.[1];
        resolve({
          child,
          httpUrl: http,
          mqttUrl,
          ...(token ? { adminToken: token } : {}),
          output: () => out,
          exited,
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/** Where a platform process keeps its data: a PGlite folder, and a fresh PostgreSQL database when configured. */
export type Target = {
  name: string;
  setup(): Promise<{ args: string[]; env: Record<string, string>; cleanup(): Promise<void> }>;
};

export function processTargets(): Target[] {
  const targets: Target[] = [
    {
      name: 'pglite',
      async setup() {
        const dir = await mkdtemp(join(tmpdir(), 'openiomt-crash-'));
        return {
          args: ['--data-dir', dir],
          env: {},
          cleanup: () => rm(dir, { recursive: true, force: true }),
        };
      },
    },
  ];
  const pgUrl = process.env[POSTGRES_URL_ENV];
  if (pgUrl) {
    targets.push({
      name: 'postgres',
      async setup() {
        const db = await createTestDatabase(pgUrl);
        const dir = await mkdtemp(join(tmpdir(), 'openiomt-crash-'));
        return {
          args: ['--data-dir', dir],
          env: { DATABASE_URL: db.url },
          cleanup: async () => {
            await db.drop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
    });
  }
  return targets;
}

/** A JSON call on a platform process's HTTP API with the administrator token. */
export async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}
