// The command line shared by the evaluation and benchmark scripts: --help prints the usage, and a mistake
// (an unknown option, a folder without its RECORDS file, a missing record file) is one line on stderr saying
// what to give, exit 2, instead of a stack trace. Errors that are not the caller's still show their stack.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NoEcgSignalError } from '../src/cli.ts';
import { WfdbHeaderError } from '../src/wfdb/header.ts';
import { WfdbFileError } from '../src/wfdb/loader.ts';

/** A mistake in the script's arguments or data, told to the caller as it is. */
export class ScriptError extends Error {
  override name = 'ScriptError';
  /** Whether the mistake is in the options given (the usage hint follows the message). */
  constructor(
    message: string,
    readonly aboutArguments = false,
  ) {
    super(message);
  }
}

/** The option every script takes. */
export const HELP_OPTION = { type: 'boolean', short: 'h' } as const;

const scriptName = (): string => basename(process.argv[1] ?? 'script');

function fail(message: string, usageHint = false): never {
  process.stderr.write(`${scriptName()}: ${message}\n${usageHint ? '(run with --help for usage)\n' : ''}`);
  process.exit(2);
}

/**
 * Runs `parse` (a `parseArgs` call whose options include `help: HELP_OPTION`): prints `usage` and exits on
 * --help, and turns a parse error (unknown option, missing value) into a one-line message.
 */
export function scriptArgs<T extends { values: { help?: boolean | undefined } }>(
  usage: string,
  parse: () => T,
): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (e) {
    if (String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'))
      fail((e as Error).message, true);
    throw e;
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Runs the script's body, telling the caller's mistakes (bad data or arguments) without a stack trace. */
export async function runScript<T>(main: () => T | Promise<T>): Promise<T> {
  try {
    return await main();
  } catch (e) {
    if (e instanceof ScriptError) fail(e.message, e.aboutArguments);
    if (e instanceof WfdbFileError || e instanceof WfdbHeaderError || e instanceof NoEcgSignalError)
      fail(e.message);
    throw e;
  }
}

/** The records a WFDB database folder lists in its RECORDS file, one per line (as PhysioNet ships them). */
export function recordsOf(dir: string, flag = '--data'): string[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'RECORDS'), 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new ScriptError(
        `no RECORDS file in ${dir}: ${flag} must be a WFDB database folder whose RECORDS file names its records, one per line (as PhysioNet's mitdb has)`,
      );
    throw new ScriptError(`cannot read ${join(dir, 'RECORDS')}: ${(e as Error).message}`);
  }
  const records = text.trim().split(/\s+/).filter(Boolean);
  if (records.length === 0) throw new ScriptError(`${join(dir, 'RECORDS')} names no records`);
  return records;
}

/** A whole number of at least `min` from an option's text, or a ScriptError naming the option. */
export function wholeNumber(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ScriptError(`${flag} must be a whole number ≥ ${min}, got "${text}"`, true);
  return n;
}

/** A positive number from an option's text, or a ScriptError naming the option. */
export function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n))
    throw new ScriptError(`${flag} must be a positive number, got "${text}"`, true);
  return n;
}
