// Thin file-system loader: the only module of the WFDB reader that does I/O.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type AnnotationFile, parseAnnotations, rescaleAnnotations } from './annotation.ts';
import { parseHeader } from './header.ts';
import { decodeRecord, type WfdbRecord } from './signal.ts';

/** Reads `<path>.hea` and the signal files it names (resolved next to the header). */
export async function readRecord(pathWithoutExtension: string): Promise<WfdbRecord> {
  const header = parseHeader(await readFile(`${pathWithoutExtension}.hea`, 'latin1'));
  const dir = dirname(pathWithoutExtension);
  const files = new Map<string, Uint8Array>();
  for (const s of header.signals) {
    if (!files.has(s.fileName)) files.set(s.fileName, new Uint8Array(await readFile(join(dir, s.fileName))));
  }
  return decodeRecord(header, files);
}

/**
 * Reads annotation file `<path>.<ext>`. When `<path>.hea` exists and the file declares a different time
 * resolution, sample times are converted to the record's frame rate.
 */
export async function readAnnotations(pathWithoutExtension: string, ext: string): Promise<AnnotationFile> {
  const file = parseAnnotations(new Uint8Array(await readFile(`${pathWithoutExtension}.${ext}`)));
  const headerPath = `${pathWithoutExtension}.hea`;
  if (file.timeResolution === undefined || !existsSync(headerPath)) return file;
  const header = parseHeader(await readFile(headerPath, 'latin1'));
  return { ...file, annotations: rescaleAnnotations(file, header.samplingFrequency) };
}
