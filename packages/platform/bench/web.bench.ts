/**
 * Web app benchmark (`npm run bench:web`): is the dashboard smooth with a ward streaming into it, and how
 * much JavaScript does a first visit download?
 *
 *   npm run bench:web [-- --patients 200 --seconds 15 --out .bench/bench-web.json]
 *
 * The platform runs in its own process (PGlite in a temporary folder); a simulated ward of --patients
 * devices streams real recordings into it over MQTT; a clinician whose care team holds every patient signs
 * in through the page in Debian's Chromium. Frame intervals (requestAnimationFrame) and long tasks are
 * recorded for --seconds on three screens: an empty page in the same browser (the baseline, measured in the
 * same run), the census of every patient, and the patient view with the live ECG. Figures are ratios to the
 * baseline too, since the machine is shared and noisy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command } from 'commander';
import type { Page } from 'playwright-core';
import { provisionAccount } from '../src/identity/testing.ts';
import { runWard } from '../src/simulate/ward.ts';
import { launchChromium, openPage, signInThroughPage } from '../test/web/browser.ts';
import { startBenchPlatform } from './platform-process.ts';

const opts = new Command()
  .option('--patients <n>', 'simulated patients streaming into the census', '200')
  .option('--seconds <s>', 'seconds of frames recorded per screen', '15')
  .option('--out <file>', 'JSON result file', '.bench/bench-web.json')
  .parse()
  .opts<{ patients: string; seconds: string; out: string }>();
const patients = Number(opts.patients);
const seconds = Number(opts.seconds);

interface FrameStats {
  readonly frames: number;
  readonly fps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Frames that took longer than two 60 Hz frames (visible stutter). */
  readonly slowFrames: number;
  readonly longTasks: number;
  readonly longTaskMs: number;
}

/** Runs in the page (a string: this file is compiled for Node, which has no DOM types). */
const FRAME_RECORDER = `(duration) => new Promise((resolve) => {
  const gaps = [];
  const longTasks = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  try { observer.observe({ type: 'longtask', buffered: false }); } catch {}
  const start = performance.now();
  let last = start;
  const frame = (now) => {
    gaps.push(now - last);
    last = now;
    if (now - start < duration) requestAnimationFrame(frame);
    else { observer.disconnect(); resolve({ gaps: gaps.slice(1), longTasks }); }
  };
  requestAnimationFrame(frame);
})`;

/** Records requestAnimationFrame intervals and long tasks in the page for `ms`. */
async function recordFrames(page: Page, ms: number): Promise<FrameStats> {
  const raw = (await page.evaluate(`(${FRAME_RECORDER})(${ms})`)) as { gaps: number[]; longTasks: number[] };
  const sorted = [...raw.gaps].sort((a, b) => a - b);
  const q = (p: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1));
  return {
    frames: sorted.length,
    fps: Number((sorted.length / (ms / 1000)).toFixed(1)),
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    slowFrames: sorted.filter((g) => g > 34).length,
    longTasks: raw.longTasks.length,
    longTaskMs: Math.round(raw.longTasks.reduce((a, b) => a + b, 0)),
  };
}

const t0 = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const bench = await startBenchPlatform('pglite', undefined);
const abort = new AbortController();
const browser = await launchChromium();
try {
  const { httpUrl, mqttUrl, adminToken } = bench.child;
  log(`provisioning ${patients} simulated patients`);
  let firstSecond: () => void = () => undefined;
  const streaming = new Promise<void>((r) => {
    firstSecond = r;
  });
  const ward = runWard({
    httpUrl,
    mqttUrl,
    adminToken,
    patients,
    durationS: Number.POSITIVE_INFINITY,
    idPrefix: 'bench',
    signal: abort.signal,
    onProgress: () => firstSecond(),
  });
  await Promise.race([streaming, ward]);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const clinician = await provisionAccount(
    { base: httpUrl, adminToken },
    { username: 'bench.clinician', roles: ['clinician'] },
  );
  const team = await admin('POST', '/api/v1/admin/care-teams', { name: 'Bench ward' });
  await admin('PUT', `/api/v1/admin/care-teams/${team.id}/members/${clinician.id}`);
  for (let i = 1; i <= patients; i++)
    await admin('PUT', `/api/v1/admin/care-teams/${team.id}/patients/bench-patient-${i}`);
  log('streaming; signing in');

  const { page, problems, close } = await openPage(browser, httpUrl, { width: 1280, height: 900 });
  await signInThroughPage(page, clinician);
  await page.goto('/#/census');
  await page.getByTestId('census-row').first().waitFor({ timeout: 60_000 });
  const firstLoad = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((r) => r.name.endsWith('.js'))
      .reduce((sum, r) => sum + (r as unknown as { encodedBodySize: number }).encodedBodySize, 0),
  );
  const rows = await page.getByTestId('census-row').count();
  log(`census shows ${rows} patients; first-load JavaScript ${(firstLoad / 1024).toFixed(1)} KB compressed`);

  const blank = await browser.newPage();
  await blank.setContent('<!doctype html><title>baseline</title><p>baseline</p>');
  const baseline = await recordFrames(blank, seconds * 1000);
  await blank.close();
  log(`baseline: ${baseline.fps} fps, p95 ${baseline.p95Ms} ms`);
  await page.bringToFront();
  const census = await recordFrames(page, seconds * 1000);
  log(
    `census:   ${census.fps} fps, p95 ${census.p95Ms} ms, ${census.slowFrames} slow frames, ${census.longTasks} long tasks`,
  );
  await page.goto('/#/patients/bench-patient-1');
  await page.locator('canvas').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(3000);
  const ecg = await recordFrames(page, seconds * 1000);
  log(
    `live ECG: ${ecg.fps} fps, p95 ${ecg.p95Ms} ms, ${ecg.slowFrames} slow frames, ${ecg.longTasks} long tasks`,
  );
  await close();

  const ratio = (s: FrameStats) => Number((s.p95Ms / Math.max(baseline.p95Ms, 1)).toFixed(2));
  const result = {
    benchmark: 'web',
    at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, chromium: browser.version() },
    patients,
    censusRows: rows,
    secondsPerScreen: seconds,
    firstLoadJsBytes: firstLoad,
    baseline,
    census: { ...census, p95RatioToBaseline: ratio(census) },
    liveEcg: { ...ecg, p95RatioToBaseline: ratio(ecg) },
    pageProblems: problems,
  };
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    JSON.stringify(
      { firstLoadKB: +(firstLoad / 1024).toFixed(1), census: result.census, liveEcg: result.liveEcg },
      null,
      2,
    ),
  );
  log(`written to ${opts.out}`);
} finally {
  abort.abort();
  await browser.close();
  await bench.dispose();
}
process.exit(0);
