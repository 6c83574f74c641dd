// Thin file-system loader: the only module of the WFDB reader that does I/O. Its errors name the file that is
// missing and what the caller should give instead, because a person typing a record path reads them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type AnnotationFile, parseAnnotations, rescaleAnnotations } from './annotation.ts';
import { parseHeader, WfdbHeaderError } from './header.ts';
import { decodeRecord, type WfdbRecord } from './signal.ts';

/** What is wrong with the files of a record: none given, no header, a signal file or annotation file absent. */
export type WfdbFileProblem = 'no-record' | 'no-header' | 'no-signal-file' | 'no-annotations' | 'unreadable';

export class WfdbFileError extends Error {
  override name = 'WfdbFileError';
  constructor(
    readonly problem: WfdbFileProblem,
    message: string,
  ) {
    super(message);
  }
}

/** How a record path works, for the messages: the example names both files a typical record has. */
export const RECORD_PATH_HINT =
  'give the record path without extension (…/mitdb/101 reads 101.hea and the signal file it names, 101.dat)';

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** The records (headers) in a folder, sorted; empty when it is not a readable folder. */
function recordsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.hea'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/**
 * A hint after "no header": the path is a folder of records (name one), or its folder holds other records
 * (the one asked for is not among them, e.g. mitdb/100 in an extract that starts at 101).
 */
function whereHint(path: string): string {
  const isFolder = (() => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  })();
  const dir = isFolder ? path : dirname(path);
  const records = recordsIn(dir);
  if (isFolder)
    return records.length > 0
      ? `; ${path} is a folder of records: name one, e.g. ${join(path, records[0]!)}`
      : `; ${path} is a folder with no records (.hea files) in it`;
  if (records.length === 0) return '';
  const shown = records.slice(0, 5).join(', ');
  return `; ${dir} holds ${records.length === 1 ? 'the record' : `${records.length} records:`} ${shown}${records.length > 5 ? ', …' : ''}`;
}

async function readHeaderText(pathWithoutExtension: string): Promise<string> {
  const headerPath = `${pathWithoutExtension}.hea`;
  try {
    return await readFile(headerPath, 'latin1');
  } catch (e) {
    if (isMissing(e))
      throw new WfdbFileError(
        'no-header',
        `no WFDB header ${headerPath}: ${RECORD_PATH_HINT}${whereHint(pathWithoutExtension)}`,
      );
    throw new WfdbFileError('unreadable', `cannot read WFDB header ${headerPath}: ${(e as Error).message}`);
  }
}

/** Parses a header, naming its file in the error (the parser only sees text). */
function parseHeaderFile(text: string, headerPath: string) {
  try {
    return parseHeader(text);
  } catch (e) {
    if (e instanceof WfdbHeaderError)
      throw new WfdbHeaderError(`${headerPath}: ${e.message.replace(/^header: /, '')}`);
    throw e;
  }
}

/** Reads `<path>.hea` and the signal files it names (resolved next to the header). */
export async function readRecord(pathWithoutExtension: string): Promise<WfdbRecord> {
  if (pathWithoutExtension.trim() === '')
    throw new WfdbFileError('no-record', `no record given: ${RECORD_PATH_HINT}`);
  const headerPath = `${pathWithoutExtension}.hea`;
  const header = parseHeaderFile(await readHeaderText(pathWithoutExtension), headerPath);
  const dir = dirname(pathWithoutExtension);
  const files = new Map<string, Uint8Array>();
  for (const s of header.signals) {
    if (files.has(s.fileName)) continue;
    const path = join(dir, s.fileName);
    try {
      files.set(s.fileName, new Uint8Array(await readFile(path)));
    } catch (e) {
      if (isMissing(e))
        throw new WfdbFileError(
          'no-signal-file',
          `the header ${headerPath} names the signal file ${s.fileName}, which is not in ${dir}: a WFDB record is its .hea file and the signal files it names; put ${s.fileName} beside ${basename(headerPath)}`,
        );
      throw new WfdbFileError('unreadable', `cannot read signal file ${path}: ${(e as Error).message}`);
    }
  }
  return decodeRecord(header, files);
}

/**
 * Reads annotation file `<path>.<ext>`. When `<path>.hea` exists and the file declares a different time
 * resolution, sample times are converted to the record's frame rate.
 */
export async function readAnnotations(pathWithoutExtension: string, ext: string): Promise<AnnotationFile> {
  const annotationPath = `${pathWithoutExtension}.${ext}`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(annotationPath));
  } catch (e) {
    if (isMissing(e))
      throw new WfdbFileError(
        'no-annotations',
        `no annotation file ${annotationPath}: annotations are a file beside the record's header, <record>.${ext}`,
      );
    throw new WfdbFileError(
      'unreadable',
      `cannot read annotation file ${annotationPath}: ${(e as Error).message}`,
    );
  }
  const file = parseAnnotations(bytes);
  const headerPath = `${pathWithoutExtension}.hea`;
  if (file.timeResolution === undefined || !existsSync(headerPath)) return file;
  const header = parseHeaderFile(await readFile(headerPath, 'latin1'), headerPath);
  return { ...file, annotations: rescaleAnnotations(file, header.samplingFrequency) };
}
