/**
 * The platform under measurement, in its own process so its CPU and memory can be read from /proc and the
 * load generator never shares its event loop. Started by ingest.bench.ts as
 *
 *   node --import tsx platform-child.ts '{"dataDir":"/tmp/x"}'   (PGlite in that folder)
 *   node --import tsx platform-child.ts '{"databaseUrl":"postgres://..."}'
 *
 * It prints one JSON line {httpUrl, mqttUrl, adminToken, pid} when ready, then answers one-line commands on
 * stdin with one JSON line each: `count` (stored readings), `stats` (pipeline, gateway and waveform
 * analysis counters), `profile-start`, `profile-stop <file>` (a V8 CPU profile of just the measured part),
 * `close`.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startPlatform } from '../src/platform.ts';

const flags = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const config = loadConfig({ flags: { httpPort: 0, mqttPort: 0, logLevel: 'silent', ...flags }, env: {} });
const platform = await startPlatform(config, { logger: createLogger('silent') });
const reply = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
reply({
  httpUrl: platform.httpUrl,
  mqttUrl: platform.mqttUrl,
  adminToken: platform.firstAdminToken,
  pid: process.pid,
});

let profiler: Session | undefined;

const commands: Record<string, (arg: string) => Promise<unknown>> = {
  'profile-start': async () => {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
    await profiler.post('Profiler.start');
    return { profiling: true };
  },
  'profile-stop': async (file) => {
    if (!profiler) throw new Error('profile-stop: no profile-start before');
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    await writeFile(file, JSON.stringify(profile));
    return { profile: file };
  },
  count: async () => ({ readings: await platform.store.readings.count() }),
  stats: async () => ({
    pipeline: platform.pipeline.stats(),
    gateway: platform.gateway.stats(),
    analysis: { ...platform.analysis.counts },
  }),
  close: async () => {
    await platform.close();
    return { closed: true };
  },
};

for await (const line of createInterface({ input: process.stdin })) {
  const [name = '', arg = ''] = line.trim().split(/ (.*)/s);
  const command = commands[name];
  if (!command) {
    reply({ error: `unknown command ${JSON.stringify(name)}` });
    continue;
  }
  try {
    reply(await command(arg));
  } catch (e) {
    reply({ error: (e as Error).message });
  }
  if (name === 'close') break;
}
process.exit(0);
