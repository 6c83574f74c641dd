/**
 * CPU time and resident memory of other processes, read from /proc (Linux). CPU% is of one core: 200 % is
 * both cores of a 2-core machine busy.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in milliseconds, or undefined if it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
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

/** Sums CPU over a set of processes (e.g. the PostgreSQL backends serving the benchmark's database). */
export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

export function totalRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
}

/** Watches processes over an interval: CPU used since start, and the largest RSS seen by periodic samples. */
export class ProcessWatch {
  private readonly startCpu: number;
  private readonly startWall = performance.now();
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => readonly number[]) {
    this.startCpu = totalCpuMs(pids());
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
  }

  /** Stops sampling; cpuPercent is of one core over the watched interval. */
  stop(): { cpuPercent: number; peakRssBytes: number; cpuMs: number } {
    clearInterval(this.timer);
    this.sample();
    const cpu = totalCpuMs(this.pids()) - this.startCpu;
    const wall = performance.now() - this.startWall;
    return { cpuPercent: (cpu / wall) * 100, peakRssBytes: this.peakRss, cpuMs: cpu };
  }

  private sample(): void {
    this.peakRss = Math.max(this.peakRss, totalRssBytes(this.pids()));
  }
}
