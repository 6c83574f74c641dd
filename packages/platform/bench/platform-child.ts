/**
 * The platform under measurement, in its own process so its CPU and memory can be read from /proc and the
 * load generator never shares its event loop. Started by ingest.bench.ts as
 *
 *   node --import tsx platform-child.ts '{"dataDir":"/tmp/x"}'   (PGlite in that folder)
 *   node --import tsx platform-child.ts '{"databaseUrl":"postgres://..."}'
 *
 * It prints one JSON line {httpUrl, mqttUrl, adminToken, pid} when ready, then answers one-line commands on
 * stdin with one JSON line each: `count` (stored readings), `stats` (pipeline, gateway and waveform
 * analysis counters), `profile-start`, `profile-stop <file>` (a V8 CPU profile of just the measured part;
 * with OPENIOMT_BENCH_HEAPPROF also a heap profile of what was promoted), `close`.
 */
import { appendFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startPlatform } from '../src/platform.ts';

// Imports are done when the first statement runs: what came before is the process and module load.
const loadedMs = Math.round(process.uptime() * 1000);
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
  loadedMs,
  startedMs: Math.round(process.uptime() * 1000) - loadedMs,
});

let profiler: Session | undefined;

/**
 * With OPENIOMT_BENCH_STALLS=<file>: once a second, a JSON line with the event loop's longest delay, the
 * garbage collector's pauses by kind, the heap by space and what the young-generation collections of that
 * second promoted to the old generation (and left in the young one), to find where latency tails come
 * from: promoted garbage is what makes full collections frequent.
 */
function recordStalls(file: string): void {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const gc: Record<string, { n: number; ms: number; maxMs: number }> = {};
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind =
        kinds[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      const g = gc[kind] ?? { n: 0, ms: 0, maxMs: 0 };
      gc[kind] = g;
      g.n++;
      g.ms += e.duration;
      g.maxMs = Math.max(g.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  let scavenges = new GCProfiler();
  scavenges.start();
  setInterval(() => {
    const young = youngCollections(scavenges.stop());
    scavenges = new GCProfiler();
    scavenges.start();
    const line = {
      at: Date.now(),
      loopDelayMaxMs: Math.round(delay.max / 1e6),
      loopDelayP99Ms: Math.round(delay.percentile(99) / 1e6),
      gc: Object.fromEntries(
        Object.entries(gc).map(([k, g]) => [k, { n: g.n, ms: Math.round(g.ms), maxMs: Math.round(g.maxMs) }]),
      ),
      ...young,
      heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      spacesMb: Object.fromEntries(
        getHeapSpaceStatistics().map((sp) => [sp.space_name, Math.round(sp.space_used_size / 2 ** 20)]),
      ),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    delay.reset();
    for (const k of Object.keys(gc)) delete gc[k];
  }, 1000).unref();
}

type GcStats = NonNullable<ReturnType<GCProfiler['stop']>>['statistics'][number];
const spaceUsed = (heap: GcStats['beforeGC'], name: string) =>
  heap.heapSpaceStatistics.find((sp) => sp.spaceName === name)?.spaceUsedSize ?? 0;

/** Of the young-generation collections in a profile: megabytes promoted to old space, and left young. */
function youngCollections(profile: ReturnType<GCProfiler['stop']>) {
  let promoted = 0;
  let survived = 0;
  let n = 0;
  for (const g of profile?.statistics ?? []) {
    if (g.gcType !== 'Scavenge') continue;
    n++;
    promoted += spaceUsed(g.afterGC, 'old_space') - spaceUsed(g.beforeGC, 'old_space');
    survived += spaceUsed(g.afterGC, 'new_space');
  }
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return { promotedMb: mb(promoted), survivedMbPerScavenge: n ? mb(survived / n) : 0 };
}
if (process.env.OPENIOMT_BENCH_STALLS) recordStalls(process.env.OPENIOMT_BENCH_STALLS);

/**
 * With OPENIOMT_BENCH_HEAPPROF=<file>, between profile-start and profile-stop: a sampling heap profile of
 * what lived long enough to be promoted to the old generation, whether or not a full GC freed it later
 * (objects the young-generation GC freed are left out). Such objects are what makes full GCs, and their
 * pauses, frequent. Open the file in Chrome DevTools (Memory, load profile).
 */
const heapProfile = process.env.OPENIOMT_BENCH_HEAPPROF;
async function startPromotedSampling(session: Session): Promise<void> {
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
}

const commands: Record<string, (arg: string) => Promise<unknown>> = {
  'profile-start': async () => {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
    await profiler.post('Profiler.start');
    if (heapProfile) await startPromotedSampling(profiler);
    return { profiling: true };
  },
  'profile-stop': async (file) => {
    if (!profiler) throw new Error('profile-stop: no profile-start before');
    const { profile } = await profiler.post('Profiler.stop');
    if (heapProfile) {
      const { profile: heap } = await profiler.post('HeapProfiler.stopSampling');
      await writeFile(heapProfile, JSON.stringify(heap));
    }
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
