/**
 * Starts platform-child.ts as a separate process and talks to it over stdin/stdout, one JSON line each way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./platform-child.ts', import.meta.url));

export interface PlatformChild {
  readonly pid: number;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly adminToken: string;
  /** Sends a command (`count`, `stats`, `close`) and resolves with its one-line JSON answer. */
  command<T = Record<string, unknown>>(name: string): Promise<T>;
  /** Closes the platform gracefully and waits for the process to exit. */
  stop(): Promise<void>;
  /** stderr so far, for error messages. */
  errors(): string;
}

export interface ChildOptions {
  /** Platform config flags (dataDir or databaseUrl, ...). */
  readonly flags: Record<string, unknown>;
  /** Extra node options, e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
  readonly nodeArgs?: readonly string[];
}

export function startPlatformChild(options: ChildOptions): Promise<PlatformChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', CHILD, JSON.stringify(options.flags)],
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
    const ready = JSON.parse(line) as { httpUrl: string; mqttUrl: string; adminToken?: string; pid: number };
    if (!ready.adminToken) throw new Error('platform child: no admin token (data folder not fresh?)');
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
      adminToken: ready.adminToken,
      command,
      errors: () => stderr,
      async stop() {
        await command('close').catch(() => child.kill('SIGKILL'));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      },
    };
  });
}
