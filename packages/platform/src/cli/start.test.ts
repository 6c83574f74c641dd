import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagOf, SETTINGS, type SettingKey } from '../config/settings.ts';
import { memoryKeyService } from '../security/keys/master-key-file.ts';
import { openStore } from '../store/store.ts';
import { createTestDatabase, POSTGRES_URL_ENV } from '../store/testing.ts';
import { startCommand } from './start.ts';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);
const PG = process.env[POSTGRES_URL_ENV];

/** The real CLI, with none of the caller's OPENIOMT_* or DATABASE_URL settings leaking in. */
const cli = (args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) => {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(OPENIOMT_|DATABASE_URL$|VAULT_)/.test(k)),
  );
  return run(process.execPath, [...nodeArgs, BIN, ...args], { env: { ...clean, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
};

const start = (dataDir: string, env: Record<string, string>) =>
  cli(['start', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'silent'], env);

/** One line, prefixed, without a stack trace: what a user should see when start cannot go on. */
const oneLine = (stderr: string) => {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^openiomt: /);
  expect(stderr).not.toMatch(/\n\s+at /);
};

describe('openiomt start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-start-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help ends with every setting: its flag, environment variables and config file key', () => {
    const program = new Command('openiomt');
    startCommand(program);
    const command = program.commands.find((c) => c.name() === 'start') as Command;
    let help = '';
    command.configureOutput({ writeOut: (s) => (help += s) });
    command.outputHelp();
    const table = help.slice(help.indexOf('Each setting also comes from'));
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const row = table.split('\n').find((l) => l.trim().startsWith(`${flagOf(key)} `));
      expect(row, key).toBeDefined();
      for (const name of [...SETTINGS[key].env, key]) expect(row).toContain(name);
    }
    // Every option but --config is a setting of the table, so the table cannot miss one.
    const flags = new Set((Object.keys(SETTINGS) as SettingKey[]).map(flagOf));
    for (const o of command.options) if (o.long !== '--config') expect(flags, o.long).toContain(o.long);
  });

  it('refuses an unreachable PostgreSQL in one line naming the setting, password masked, exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    await new Promise((r) => blocker.close(r)); // a port nothing listens on
    const dataDir = join(dir, 'refused');
    const r = await start(dataDir, { OPENIOMT_DATABASE_URL: `postgres://u:s3cret@127.0.0.1:${port}/x` });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(
      `openiomt: cannot connect to PostgreSQL at 127.0.0.1:${port} (OPENIOMT_DATABASE_URL): connection refused`,
    );
    expect(r.stderr).not.toContain('s3cret');
    // The master key file this start made went with it: nothing was ever encrypted under it.
    expect(existsSync(join(dataDir, 'keys', 'master.key'))).toBe(false);
  }, 60_000);

  it('gives up on a PostgreSQL that never answers once the connect timeout passes, in one line', async () => {
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => {
      accepted.add(socket);
      socket.resume(); // reads what it is sent, answers nothing
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const dataDir = join(dir, 'silent');
      const r = await cli(
        ['start', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
        { DATABASE_URL: `postgres://u@127.0.0.1:${port}/x`, OPENIOMT_DATABASE_CONNECT_TIMEOUT_S: '1' },
      );
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toContain(
        `openiomt: cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): no answer within 1 s`,
      );
      expect(r.stderr.trimEnd()).toMatch(/: check the host and port in DATABASE_URL$/);
      expect(accepted.size).toBe(1); // it did reach the server, which kept silent
      expect(existsSync(join(dataDir, 'keys', 'master.key'))).toBe(false);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 60_000);

  it('refuses a URL of another database, or one naming no database, before starting anything', async () => {
    const mysql = await start(join(dir, 'mysql'), { DATABASE_URL: 'mysql://x:pw@127.0.0.1/db' });
    expect(mysql.code).toBe(2);
    oneLine(mysql.stderr);
    expect(mysql.stderr).toContain(
      'openiomt: DATABASE_URL: "mysql://x:***@127.0.0.1/db" is not a PostgreSQL URL',
    );
    const bare = await cli(['start', '--database-url', 'postgres://127.0.0.1:5432']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^openiomt: --database-url: .* names no database/);
  }, 60_000);

  it.skipIf(!PG)(
    'says to create a database that does not exist',
    async () => {
      const url = new URL(PG as string);
      url.pathname = '/openiomt_no_such_database';
      const r = await start(join(dir, 'nodb'), { DATABASE_URL: url.toString() });
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(
        /^openiomt: cannot connect to PostgreSQL at .* \(DATABASE_URL\): database "openiomt_no_such_database" does not exist: create it \(createdb .*openiomt_no_such_database\) or fix DATABASE_URL/,
      );
    },
    60_000,
  );

  it.skipIf(!PG)(
    'refused for another master key, leaves no new master key file behind',
    async () => {
      const db = await createTestDatabase(PG as string);
      try {
        // The database's first start was under a master key this data folder does not have.
        const first = await openStore({ url: db.url, keys: memoryKeyService() });
        await first.close();
        const dataDir = join(dir, 'other-key');
        const r = await start(dataDir, { DATABASE_URL: db.url });
        expect(r.code).toBe(2);
        oneLine(r.stderr);
        expect(r.stderr).toMatch(/^openiomt: this database is encrypted under master key memory:/);
        expect(existsSync(join(dataDir, 'keys', 'master.key'))).toBe(false);
      } finally {
        await db.drop();
      }
    },
    60_000,
  );

  it('other commands do not load oidc-provider (it warns on Node 20 as it loads)', async () => {
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c);
      if (r.url.includes('/oidc-provider/')) process._rawDebug('LOADED oidc-provider'); return r; }`;
    const register = `import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
    const nodeArgs = ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
    for (const args of [
      ['device', '--help'],
      ['simulate', '--help'],
      ['alarm', 'list', '--help'],
    ]) {
      const r = await cli(args, {}, nodeArgs);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
    // The hook does see it when it is loaded.
    const control = await run(process.execPath, [...nodeArgs, '-e', "import('oidc-provider')"], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(control.stderr).toContain('LOADED oidc-provider');
  }, 60_000);
});
