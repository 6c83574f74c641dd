/**
 * Parsers of the live dashboard's query parameters (outside input): the trend window and codes, and the
 * patients and waveforms of a live stream. Each refusal is a 400 problem naming the parameter as a JSON
 * pointer (`/from`, `/patients`, ...). Pure: `now` is an argument.
 */
import { VITAL_CODES, VITALS } from '@openiomt/core';
import { badRequest } from '../http/problem.ts';
import { isIsoInstant } from '../store/sql.ts';

/** The NEWS2 total, kept as a trend beside the vital signs. */
export const NEWS2_TREND_CODE = 'news2';

/** Numeric vital signs (category vital-signs): what trends and the census show. */
export const NUMERIC_VITAL_CODES: readonly string[] = VITAL_CODES.filter(
  (c) => VITALS[c].valueKind === 'quantity' && VITALS[c].category === 'vital-signs',
);
export const TREND_CODES: readonly string[] = [...NUMERIC_VITAL_CODES, NEWS2_TREND_CODE];
const TREND_CODE_SET = new Set(TREND_CODES);

const MINUTE_S = 60;
const DAY_MS = 86_400_000;
export const DEFAULT_TREND_RANGE_MS = DAY_MS;
export const MAX_TREND_RANGE_MS = 31 * DAY_MS;
/** The default bucket keeps a series at or under this many points. */
export const TARGET_POINTS = 400;
/** An explicit bucket may not make a series longer than this. */
export const MAX_POINTS = 5000;
export const MAX_BUCKET_S = 86_400;
/** Default bucket sizes, smallest first: the first that keeps a series under TARGET_POINTS is used. */
const NICE_BUCKETS_S = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

export const MAX_LIVE_PATIENTS = 500;
export const MAX_WAVEFORM_PATIENTS = 4;
const PATIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TrendQuery {
  /** Absent: every code with data in the window. */
  readonly codes?: readonly string[];
  /** Epoch ms, from inclusive, to exclusive. */
  readonly from: number;
  readonly to: number;
  readonly bucketSeconds: number;
}

export interface LiveQuery {
  readonly patients: readonly string[];
  readonly waveforms: readonly string[];
}

type RawQuery = Record<string, unknown>;

/** `?codes=a,b&from=<ISO>&to=<ISO>&bucket=<seconds>` of the trends route. */
export function parseTrendQuery(raw: RawQuery, now: number): TrendQuery {
  const codes = parseCodes(single(raw, 'codes'));
  const toRaw = single(raw, 'to');
  const to = toRaw === undefined ? now : instant(toRaw, '/to');
  const fromRaw = single(raw, 'from');
  const from = fromRaw === undefined ? to - DEFAULT_TREND_RANGE_MS : instant(fromRaw, '/from');
  if (from >= to) throw badRequest('from must be before to', '/from');
  if (to - from > MAX_TREND_RANGE_MS) throw badRequest('the window may span at most 31 days', '/from');
  const bucketRaw = single(raw, 'bucket');
  const bucketSeconds = bucketRaw === undefined ? defaultBucket(to - from) : bucket(bucketRaw, to - from);
  return { ...(codes ? { codes } : {}), from, to, bucketSeconds };
}

/** The smallest usual bucket that keeps a series of this window at or under ~400 points. */
export function defaultBucket(rangeMs: number): number {
  const wanted = rangeMs / 1000 / TARGET_POINTS;
  return NICE_BUCKETS_S.find((b) => b >= wanted) ?? MAX_BUCKET_S;
}

/** `?patients=a,b&waveforms=a` of the live stream. */
export function parseLiveQuery(raw: RawQuery): LiveQuery {
  const patients = idList(single(raw, 'patients'), '/patients', MAX_LIVE_PATIENTS);
  if (patients.length === 0) throw badRequest('name at least one patient', '/patients');
  const waveforms = idList(single(raw, 'waveforms'), '/waveforms', MAX_WAVEFORM_PATIENTS);
  const asked = new Set(patients);
  for (const w of waveforms)
    if (!asked.has(w)) throw badRequest('every waveform patient must also be in patients', '/waveforms');
  return { patients, waveforms };
}

/** A parameter given at most once (a repeated one is refused rather than silently picked). */
function single(raw: RawQuery, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} may be given once`, `/${name}`);
  return v;
}

function parseCodes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const codes = [...new Set(raw.split(','))];
  if (codes.length === 0 || codes.includes(''))
    throw badRequest('codes is a comma-separated list of codes', '/codes');
  for (const c of codes)
    if (!TREND_CODE_SET.has(c))
      throw badRequest(
        `unknown trend code ${JSON.stringify(c.slice(0, 40))}; use ${TREND_CODES.join(', ')}`,
        '/codes',
      );
  return codes;
}

function instant(raw: string, field: string): number {
  // A '+' offset sent unencoded arrives as a space; take it back.
  const s = raw.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!isIsoInstant(s)) throw badRequest(`${field.slice(1)} must be an RFC 3339 instant with offset`, field);
  const t = Date.parse(s);
  // timestamptz and Date both hold these years; outside them arithmetic on the window would be nonsense.
  if (t < Date.UTC(1970, 0, 1) || t > Date.UTC(9999, 0, 1))
    throw badRequest(`${field.slice(1)} must be between 1970 and 9999`, field);
  return t;
}

function bucket(raw: string, rangeMs: number): number {
  const b = /^[0-9]{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(b) || b < MINUTE_S || b > MAX_BUCKET_S || b % MINUTE_S !== 0)
    throw badRequest('bucket must be a whole number of minutes in seconds, 60..86400', '/bucket');
  if (Math.ceil(rangeMs / 1000 / b) > MAX_POINTS)
    throw badRequest(`bucket too small for the window: at most ${MAX_POINTS} points per series`, '/bucket');
  return b;
}

function idList(raw: string | undefined, field: string, max: number): string[] {
  if (raw === undefined || raw === '') return [];
  const ids = [...new Set(raw.split(','))];
  if (ids.length > max) throw badRequest(`at most ${max} patients`, field);
  for (const id of ids)
    if (!PATIENT_ID.test(id))
      throw badRequest(`invalid patient id ${JSON.stringify(id.slice(0, 64))}`, field);
  return ids;
}
