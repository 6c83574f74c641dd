/**
 * FHIR search parameters from outside input: which are known per resource (anything else is refused, so a
 * typo cannot silently widen a search), date values with their prefixes and implicit ranges, references and
 * tokens. Every refusal is an HttpProblem naming the parameter, which the FHIR plugins answer as an
 * OperationOutcome with the parameter as `expression`.
 */
import { badRequest } from '../http/problem.ts';

export type Query = Record<string, string | string[] | undefined>;

/** Parameters any search accepts: paging, the result form and the format (JSON is the only one). */
const COMMON = ['_count', '_cursor', '_format', '_summary'];

/**
 * Refuses parameters a search does not know, and repeats of those that may be given once. Returns the query
 * with single values (repeatable ones keep their list in `repeated`).
 */
export function checkParams(
  raw: Query,
  known: readonly string[],
  repeatable: readonly string[] = [],
): { one: Record<string, string | undefined>; all: (name: string) => string[] } {
  const one: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!known.includes(name) && !COMMON.includes(name))
      throw badRequest(`unknown search parameter ${name}`, name);
    if (Array.isArray(value) && !repeatable.includes(name))
      throw badRequest(`${name} may be given once`, name);
    one[name] = Array.isArray(value) ? value[0] : value;
  }
  if (one._format !== undefined && !/json/.test(one._format))
    throw badRequest('_format: only JSON is served', '_format');
  if (one._summary !== undefined && one._summary !== 'count' && one._summary !== 'false')
    throw badRequest('_summary: only count (or false) is supported', '_summary');
  const all = (name: string): string[] => {
    const v = raw[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  return { one, all };
}

/** `_count`: 1..1000, default 50. */
export function countParam(raw: string | undefined): number {
  const count = raw === undefined ? 50 : Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw badRequest('_count must be 1..1000', '_count');
  return count;
}

/** The id in a reference search value (`Type/id` or `id`), refused when malformed. */
export function referenceParam(value: string | undefined, type: string, name: string): string | undefined {
  if (value === undefined) return undefined;
  const m = new RegExp(`^(?:${type}/)?([A-Za-z0-9\\-._@+]{1,128})$`).exec(value);
  if (!m) throw badRequest(`${name} must be ${type}/<id>`, name);
  return m[1] as string;
}

export const DATE_PREFIXES = ['eq', 'ne', 'lt', 'gt', 'le', 'ge', 'sa', 'eb'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/**
 * One date condition: the prefix and the range the value stands for at its precision (2024 is the whole
 * year: [2024-01-01, 2025-01-01)), as epoch ms, `hi` exclusive.
 */
export interface DateCondition {
  readonly prefix: DatePrefix;
  readonly lo: number;
  readonly hi: number;
}

const DATE_VALUE =
  /^(eq|ne|lt|gt|le|ge|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** Parses `[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]](Z|±hh:mm)]]]`; null when malformed. */
export function parseDateCondition(value: string): DateCondition | null {
  const m = DATE_VALUE.exec(value);
  if (!m) return null;
  const [, prefix = 'eq', y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (h === undefined) {
    const lo = Date.UTC(year, month - 1, day);
    if (new Date(lo).getUTCDate() !== day) return null; // 2024-02-30
    const hi =
      mo === undefined
        ? Date.UTC(year + 1, 0, 1)
        : d === undefined
          ? Date.UTC(year, month, 1)
          : Date.UTC(year, month - 1, day + 1);
    return { prefix: prefix as DatePrefix, lo, hi };
  }
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return null;
  const text = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${zone}`;
  const lo = Date.parse(text);
  if (!Number.isFinite(lo)) return null;
  const step = frac !== undefined ? 10 ** (3 - (frac.length - 1)) : s !== undefined ? 1000 : 60_000;
  return { prefix: prefix as DatePrefix, lo, hi: lo + step };
}

/** Every value of a date parameter (conditions are ANDed), or 400 naming the parameter. */
export function dateParams(values: readonly string[], name: string): DateCondition[] {
  if (values.length > 4) throw badRequest(`${name} may be given at most 4 times`, name);
  return values.map((v) => {
    const c = parseDateCondition(v);
    if (!c)
      throw badRequest(
        `${name} must be [eq|ne|lt|gt|le|ge|sa|eb]YYYY[-MM[-DD[Thh:mm[:ss[.sss]]+zone]]], got ${JSON.stringify(v.slice(0, 40))}`,
        name,
      );
    return c;
  });
}

/**
 * Whether an instant `t` (a point: an Observation's effective time) matches a condition, as the FHIR R4
 * search rules say for ranges: for a point, sa is gt and eb is lt. The reference model for the SQL below.
 */
export function matchesDate(t: number, c: DateCondition): boolean {
  switch (c.prefix) {
    case 'eq':
      return t >= c.lo && t < c.hi;
    case 'ne':
      return t < c.lo || t >= c.hi;
    case 'lt':
    case 'eb':
      return t < c.lo;
    case 'gt':
    case 'sa':
      return t >= c.hi;
    case 'le':
      return t < c.hi;
    case 'ge':
      return t >= c.lo;
  }
}

/** The same condition as SQL on a timestamptz column; `param` adds a parameter and returns its placeholder. */
export function dateSql(column: string, c: DateCondition, param: (v: unknown) => string): string {
  const at = (ms: number) => `${param(new Date(ms).toISOString())}::timestamptz`;
  switch (c.prefix) {
    case 'eq':
      return `(${column} >= ${at(c.lo)} AND ${column} < ${at(c.hi)})`;
    case 'ne':
      return `(${column} < ${at(c.lo)} OR ${column} >= ${at(c.hi)})`;
    case 'lt':
    case 'eb':
      return `${column} < ${at(c.lo)}`;
    case 'gt':
    case 'sa':
      return `${column} >= ${at(c.hi)}`;
    case 'le':
      return `${column} < ${at(c.hi)}`;
    case 'ge':
      return `${column} >= ${at(c.lo)}`;
  }
}
