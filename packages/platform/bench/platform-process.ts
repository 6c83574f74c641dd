/**
 * Starts platform-child.ts as a separate process and talks to it over stdin/stdout, one JSON line each way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../src/store/testing.ts';
import { postgresBackendPids } from './proc-stats.ts';

const CHILD = fileURLToPath(new URL('./platform-child.ts', import.meta.url));

export interface PlatformChild {
  readonly pid: number;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly adminToken: string;
  /** ms from process start to the platform's modules loaded, and from then to the platform ready. */
  readonly loadedMs: number;
  readonly startedMs: number;
  /** Sends a command (`count`, `stats`, `close`) and resolves with its one-line JSON answer. */
  command<T = Record<string, unknown>>(name: string): Promise<T>;
  /** Closes the platform gracefully and waits for the process to exit. */
  stop(): Promise<void>;
  /** Kills the process (SIGKILL: nothing drained, nothing closed) and waits for it to be gone. */
  kill(): Promise<void>;
  /** stderr so far, for error messages. */
  errors(): string;
}

export interface ChildOptions {
  /** Platform config flags (dataDir or databaseUrl, ...). */
  readonly flags: Record<string, unknown>;
  /** Extra node options, e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
  readonly nodeArgs?: readonly string[];
  /** A restart on a store already used: no first administrator credential is printed then. */
  readonly restart?: boolean;
}

/** The V8 options `npm start` and the openiomt command run the platform with (package.json, bin/openiomt.js). */
const PLATFORM_NODE_ARGS = ['--max-semi-space-size=64'];

/** More node options for the platform process, for experiments: OPENIOMT_BENCH_NODE_ARGS="--flag --other". */
const extraNodeArgs = (): string[] => process.env.OPENIOMT_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

export function startPlatformChild(options: ChildOptions): Promise<PlatformChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...PLATFORM_NODE_ARGS,
      ...extraNodeArgs(),
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      CHILD,
      JSON.stringify(options.flags),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (timeoutMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`platform child: no answer to ${what}\n${stderr}`)),
        timeoutMs,
      );
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`platform child exited with ${code} (waiting for ${what})\n${stderr}`));
      });
    });

  return nextLine(60_000, 'start').then((line) => {
    const ready = JSON.parse(line) as {
      httpUrl: string;
      mqttUrl: string;
      adminToken?: string;
      pid: number;
      loadedMs: number;
      startedMs: number;
    };
    if (!ready.adminToken && !options.restart)
      throw new Error('platform child: no admin token (data folder not fresh?)');
    let queue: Promise<unknown> = Promise.resolve();
    const command = <T>(name: string): Promise<T> => {
      const run = queue.then(async () => {
        child.stdin!.write(`${name}\n`);
        const answer = JSON.parse(await nextLine(120_000, name)) as T & { error?: string };
        if (answer.error) throw new Error(`platform child ${name}: ${answer.error}`);
        return answer as T;
      });
      queue = run.catch(() => undefined);
      return run;
    };
    return {
      pid: ready.pid,
      httpUrl: ready.httpUrl,
      mqttUrl: ready.mqttUrl,
      adminToken: ready.adminToken ?? '',
      loadedMs: ready.loadedMs,
      startedMs: ready.startedMs,
      command,
      errors: () => stderr,
      async stop() {
        await command('close').catch(() => child.kill('SIGKILL'));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      },
      async kill() {
        child.kill('SIGKILL');
        await exited;
      },
    };
  });
}

export type Backend = 'pglite' | 'postgres';

/**
 * The backends a benchmark runs: `--backend` as given (pglite, postgres or both), else both when a
 * PostgreSQL URL is known (flag, OPENIOMT_TEST_POSTGRES_URL or DATABASE_URL), else PGlite alone.
 */
export function chooseBackends(
  backend: string | undefined,
  postgresUrlFlag: string | undefined,
): { backends: Backend[]; postgresUrl?: string } {
  const postgresUrl = postgresUrlFlag ?? process.env.OPENIOMT_TEST_POSTGRES_URL ?? process.env.DATABASE_URL;
  const which = backend ?? (postgresUrl ? 'both' : 'pglite');
  if (!['pglite', 'postgres', 'both'].includes(which)) throw new Error('--backend: pglite, postgres or both');
  if (which !== 'pglite' && !postgresUrl)
    throw new Error('--backend postgres needs --postgres-url, OPENIOMT_TEST_POSTGRES_URL or DATABASE_URL');
  return {
    backends: which === 'both' ? ['pglite', 'postgres'] : [which as Backend],
    ...(postgresUrl ? { postgresUrl } : {}),
  };
}

export interface BenchPlatform {
  readonly child: PlatformChild;
  /** PostgreSQL server processes serving the run's database (undefined for PGlite). */
  readonly databasePids?: () => readonly number[];
  /** Stops the platform, then drops the database or removes the PGlite folder. */
  dispose(): Promise<void>;
}

/** The platform in its own process on a fresh store: a new PGlite folder, or a new PostgreSQL database. */
export async function startBenchPlatform(
  backend: Backend,
  postgresUrl: string | undefined,
): Promise<BenchPlatform> {
  if (backend === 'postgres' && !postgresUrl) throw new Error('postgres backend without a URL');
  const database = backend === 'postgres' ? await createTestDatabase(postgresUrl!) : undefined;
  const dataDir = backend === 'pglite' ? await mkdtemp(join(tmpdir(), 'openiomt-bench-')) : undefined;
  const cleanUp = async () => {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  const child = await startPlatformChild({
    flags: database ? { databaseUrl: database.url } : { dataDir },
  }).catch(async (e) => {
    await cleanUp();
    throw e;
  });
  const name = database ? new URL(database.url).pathname.slice(1) : undefined;
  return {
    child,
    ...(name ? { databasePids: () => postgresBackendPids(name) } : {}),
    async dispose() {
      try {
        await child.stop();
      } finally {
        await cleanUp();
      }
    },
  };
}
