/**
 * CPU time and resident memory of other processes, read from /proc (Linux). CPU% is of one core: 200 % is
 * both cores of a 2-core machine busy.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in milliseconds, or undefined if it is gone. */
export function cpuMs(pid: number, statFile = `/proc/${pid}/stat`): number | undefined {
  try {
    const stat = readFileSync(statFile, 'latin1');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined if the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) of each thread of a process, by thread id; empty if the process is gone. */
export function threadCpuMs(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const cpu = cpuMs(Number(tid), `/proc/${pid}/task/${tid}/stat`);
      if (cpu !== undefined) threads.set(Number(tid), cpu);
    }
  } catch {
    // The process ended.
  }
  return threads;
}

/**
 * PostgreSQL server processes working for one database, found by their process title
 * ("postgres: ... <user> <database> <client> <state>"), plus the WAL writer, which every commit waits on.
 */
export function postgresBackendPids(database: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ');
      if (!title.startsWith('postgres:')) continue;
      if (title.includes(` ${database} `) || title.includes('walwriter')) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Watches processes over an interval: CPU used since start (per process, so processes that start or end
 * meanwhile are counted for the part they were alive) and the largest RSS seen by periodic samples.
 */
export class ProcessWatch {
  private readonly startCpu = new Map<number, number>();
  private readonly lastCpu = new Map<number, number>();
  private readonly startWall = performance.now();
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => readonly number[]) {
    for (const pid of pids()) {
      const cpu = cpuMs(pid);
      if (cpu !== undefined) this.startCpu.set(pid, cpu);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
  }

  /** Stops sampling; cpuPercent is of one core over the watched interval. */
  stop(): { cpuPercent: number; peakRssBytes: number; cpuMs: number } {
    clearInterval(this.timer);
    this.sample();
    let cpu = 0;
    for (const [pid, last] of this.lastCpu) cpu += last - (this.startCpu.get(pid) ?? 0);
    const wall = performance.now() - this.startWall;
    return { cpuPercent: (cpu / wall) * 100, peakRssBytes: this.peakRss, cpuMs: cpu };
  }

  private sample(): void {
    const pids = this.pids();
    let rss = 0;
    for (const pid of pids) {
      const cpu = cpuMs(pid);
      if (cpu === undefined) continue;
      // A process first seen now started during the interval: all its CPU time belongs to it.
      if (!this.startCpu.has(pid)) this.startCpu.set(pid, 0);
      this.lastCpu.set(pid, cpu);
      rss += rssBytes(pid) ?? 0;
    }
    this.peakRss = Math.max(this.peakRss, rss);
  }
}
