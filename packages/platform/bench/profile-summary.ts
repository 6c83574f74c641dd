/**
 * Where the platform's time goes, from a V8 CPU profile (`node --cpu-prof`): self time by function and by
 * area (our source files, pg/PGlite, node internals, GC), and inclusive time of the functions that make up
 * the ingest path. Usable on its own:  npx tsx packages/platform/bench/profile-summary.ts <file.cpuprofile>
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly topSelf: { fn: string; ms: number; percentOfBusy: number }[];
  readonly byArea: { area: string; ms: number; percentOfBusy: number }[];
  readonly inclusive: { fn: string; ms: number; percentOfBusy: number }[];
}

const PROFILER_AREA = 'packages/platform/bench/platform-child.ts';

/** Functions of the ingest path whose inclusive time is reported when they appear in the profile. */
const PATH_FUNCTIONS = [
  'onData',
  'takePackets',
  'onPublish',
  'ingest',
  'admit',
  'verifyMessage',
  'parseCompactJws',
  'verifyJws',
  'decodeReading',
  'commitNew',
  'mapReading',
  'commitReadings',
  'commit',
  'sendPuback',
  'publish',
];

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  let idleMs = 0;
  const fnSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const areas = areaOfNodes(profile, byId);
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    // The profiler's own start/stop calls (made from the benchmark's child entry) are not platform work.
    if (areas.get(id) === PROFILER_AREA) continue;
    add(fnSelf, label(node), ms);
    add(areaSelf, areas.get(id) ?? '(unknown)', ms);
  }
  const busy = Math.max(
    1e-9,
    [...fnSelf.values()].reduce((a, b) => a + b, 0),
  );
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => ({ k, ms: round(ms), percentOfBusy: round((ms / busy) * 100) }));
  return {
    totalMs: round(totalMs),
    idleMs: round(idleMs),
    busyMs: round(busy),
    topSelf: rank(fnSelf, top).map(({ k, ...r }) => ({ fn: k, ...r })),
    byArea: rank(areaSelf, 20).map(({ k, ...r }) => ({ area: k, ...r })),
    inclusive: rank(onIngestPath(inclusiveTimes(profile, byId, self)), 30).map(({ k, ...r }) => ({
      fn: k,
      ...r,
    })),
  };
}

/**
 * The area each node's self time is charged to. Native frames (no script URL: fs bindings, crypto, the
 * WASM-to-JS glue) are charged to the nearest caller that has one, so PGlite's file-system calls count as
 * PGlite and crypto.verify as the code that called it.
 */
function areaOfNodes(profile: CpuProfile, byId: Map<number, ProfileNode>): Map<number, string> {
  const out = new Map<number, string>();
  const root = profile.nodes[0];
  if (!root) return out;
  const stack: [ProfileNode, string | undefined][] = [[root, undefined]];
  while (stack.length > 0) {
    const [node, inherited] = stack.pop()!;
    const { url, functionName } = node.callFrame;
    // node: internals count for their caller (fs for PGlite, streams for the socket), except crypto.
    const own = !url
      ? undefined
      : url.startsWith('node:internal/crypto')
        ? 'node:crypto'
        : url.startsWith('node:')
          ? undefined
          : area(url);
    const top = url.startsWith('node:')
      ? 'node internals'
      : functionName.startsWith('(')
        ? functionName
        : '(native)';
    const here = own ?? inherited ?? top;
    out.set(node.id, here);
    for (const child of node.children ?? []) stack.push([byId.get(child)!, own ?? inherited]);
  }
  return out;
}

function onIngestPath(m: Map<string, number>): Map<string, number> {
  return new Map(
    [...m].filter(([k]) => PATH_FUNCTIONS.some((f) => k.startsWith(`${f} `) && k.includes('packages/'))),
  );
}

/** Inclusive time per function, counting a recursive function once per stack. */
function inclusiveTimes(profile: CpuProfile, byId: Map<number, ProfileNode>, self: Map<number, number>) {
  const out = new Map<string, number>();
  const root = profile.nodes[0];
  if (!root) return out;
  const visit = (node: ProfileNode, active: Set<string>): number => {
    let total = self.get(node.id) ?? 0;
    const key = label(node);
    const fresh = !active.has(key);
    if (fresh) active.add(key);
    for (const child of node.children ?? []) total += visit(byId.get(child)!, active);
    if (fresh) {
      active.delete(key);
      if (node.callFrame.functionName !== '(idle)') add(out, key, total);
    }
    return total;
  };
  visit(root, new Set());
  return out;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? shortUrl(url) : '';
  return `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`.trim();
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const pk = path.indexOf('packages/');
  return pk >= 0 ? path.slice(pk) : path;
}

function area(url: string): string {
  if (url.startsWith('wasm:')) return 'PGlite (WASM Postgres)';
  const path = shortUrl(url);
  if (path.startsWith('@electric-sql/pglite')) return 'PGlite (WASM Postgres)';
  if (/^(pg|pg-protocol|pg-pool|pg-types)\//.test(path)) return 'pg driver';
  if (path.startsWith('mqtt-packet') || path.startsWith('bl/') || path.startsWith('readable-stream'))
    return 'mqtt-packet';
  if (path.startsWith('packages/')) return path.split('?')[0]!;
  const pkg = path.split('/')[0]!;
  return pkg.startsWith('@') ? path.split('/').slice(0, 2).join('/') : pkg;
}

const add = (m: Map<string, number>, k: string, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};
const round = (n: number): number => Math.round(n * 10) / 10;

export function summarizeProfileFile(path: string, top?: number): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top);
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `profile: ${s.totalMs} ms, idle ${s.idleMs} ms, busy ${s.busyMs} ms (percentages are of busy time)`,
    'self time by area:',
    ...s.byArea.map((a) => `  ${a.percentOfBusy.toFixed(1).padStart(5)} %  ${a.area}`),
    'hottest functions (self time):',
    ...s.topSelf.map((f) => `  ${f.percentOfBusy.toFixed(1).padStart(5)} %  ${f.fn}`),
    'ingest path (inclusive time):',
    ...s.inclusive.map((f) => `  ${f.percentOfBusy.toFixed(1).padStart(5)} %  ${f.fn}`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
  console.log(formatProfileSummary(summarizeProfileFile(file)));
}
