/**
 * Cuts the simulator's recording fixtures (packages/platform/fixtures/recordings) out of the PhysioNet data
 * in the shared data folder, reproducibly:
 *
 *   npx tsx packages/platform/src/simulate/make-fixtures.ts [sourceDataDir] [outputDir]
 *
 * A cut keeps whole frames from the start of the record, rewrites the header's sample count and per-signal
 * checksums, and is read back and compared sample by sample with the source before the script succeeds.
 */
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDataDir } from './recordings.ts';
import { checksum, decodeRecord, parseHeader, type RecordHeader, readRecord } from './wfdb.ts';

const FIXTURE_SECONDS = 60;

/** Records cut to their first FIXTURE_SECONDS (relative to the data folder). */
export const CUT_RECORDS = ['mitdb/101', 'mitdb/106', 'mitdb/119', 'challenge-2015/v102s'] as const;
/** Small records copied whole: per-minute numerics (32 h and 72 min). */
export const COPIED_RECORDS = [
  'mimic2wdb-numerics/s00001-2896-10-10-00-31n',
  'mimic2wdb-numerics/s25047-2704-05-04-10-44n',
] as const;

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/recordings');

/** Bytes one frame takes in a single data file of format 212 or 16 (the formats cut here). */
function bytesPerFrame(header: RecordHeader): number {
  const files = new Set(header.signals.map((s) => s.fileName));
  if (files.size !== 1) throw new Error(`record ${header.name}: only single-file records can be cut`);
  const samples = header.signals.reduce((n, s) => n + s.samplesPerFrame, 0);
  const format = header.signals[0]!.format;
  if (header.signals.some((s) => s.format !== format || s.byteOffset !== 0))
    throw new Error(`record ${header.name}: signals must share one format without byte offset`);
  if (format === 16) return samples * 2;
  if (format === 212 && samples % 2 === 0) return (samples * 3) / 2;
  throw new Error(
    `record ${header.name}: format ${format} with ${samples} samples per frame is not cut here`,
  );
}

/** The header text with a new frame count, new checksums and a note on where the cut came from. */
function rewriteHeader(text: string, frames: number, sums: number[], source: string): string {
  const lines = text.split(/\r?\n/);
  let signal = -1;
  const out = lines.map((line) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return line;
    const parts = line.trim().split(/\s+/);
    if (signal < 0) {
      parts[3] = String(frames);
    } else if (signal < sums.length) {
      parts[6] = String(sums[signal]);
    }
    signal += 1;
    return parts.join(' ');
  });
  while (out.length > 0 && out.at(-1) === '') out.pop();
  out.push(`#Fixture: first ${FIXTURE_SECONDS} s of ${source} (cut by make-fixtures.ts)`);
  return `${out.join('\n')}\n`;
}

async function cutRecord(sourceDir: string, outDir: string, record: string): Promise<void> {
  const headerText = await readFile(join(sourceDir, `${record}.hea`), 'latin1');
  const header = parseHeader(headerText);
  const frames = Math.round(FIXTURE_SECONDS * header.samplingFrequency);
  if (header.frameCount !== undefined && header.frameCount < frames)
    throw new Error(`record ${record} is shorter than ${FIXTURE_SECONDS} s`);
  const fileName = header.signals[0]!.fileName;
  const bytes = (await readFile(join(sourceDir, dirname(record), fileName))).subarray(
    0,
    frames * bytesPerFrame(header),
  );
  const cut = decodeRecord({ ...header, frameCount: frames }, new Map([[fileName, new Uint8Array(bytes)]]));
  const sums = cut.signals.map((s) => checksum(s.digital));
  const target = join(outDir, record);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(join(dirname(target), fileName), bytes);
  await writeFile(`${target}.hea`, rewriteHeader(headerText, frames, sums, record));
  await verifyCut(join(sourceDir, record), target, frames);
}

/** Reads the fixture back and compares it with the first frames of the source. */
async function verifyCut(sourcePath: string, fixturePath: string, frames: number): Promise<void> {
  const [source, fixture] = await Promise.all([readRecord(sourcePath), readRecord(fixturePath)]);
  if (fixture.header.frameCount !== frames)
    throw new Error(`${fixturePath}: header says ${fixture.header.frameCount} frames`);
  fixture.signals.forEach((s, i) => {
    const original = source.signals[i]!.digital.subarray(0, s.digital.length);
    if (s.digital.length !== frames * s.spec.samplesPerFrame || !original.every((v, k) => v === s.digital[k]))
      throw new Error(`${fixturePath}: signal ${i} does not match the source`);
    if (s.spec.checksum !== checksum(s.digital))
      throw new Error(`${fixturePath}: signal ${i} checksum is wrong`);
  });
}

async function copyRecord(sourceDir: string, outDir: string, record: string): Promise<void> {
  const header = parseHeader(await readFile(join(sourceDir, `${record}.hea`), 'latin1'));
  await mkdir(dirname(join(outDir, record)), { recursive: true });
  const files = [`${record}.hea`, ...new Set(header.signals.map((s) => join(dirname(record), s.fileName)))];
  for (const file of files) {
    await copyFile(join(sourceDir, file), join(outDir, file));
    await chmod(join(outDir, file), 0o644); // the source may be read-only; a re-run must overwrite
  }
}

export async function makeFixtures(sourceDir: string, outDir: string): Promise<void> {
  for (const r of CUT_RECORDS) await cutRecord(sourceDir, outDir, r);
  for (const r of COPIED_RECORDS) await copyRecord(sourceDir, outDir, r);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = process.argv[2] ?? sharedDataDir();
  if (!source) {
    process.stderr.write('make-fixtures: no source data: pass a folder or set OPENIOMT_SHARED_DATA\n');
    process.exit(2);
  }
  const out = process.argv[3] ?? FIXTURES_DIR;
  await makeFixtures(source, out);
  process.stdout.write(`fixtures written to ${out} from ${source}\n`);
}
