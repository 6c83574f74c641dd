/**
 * FHIR R4 `Subscription.criteria` for Observations, parsed from outside input and evaluated against an
 * Observation. The accepted form is a search URL on Observation:
 *
 *   Observation?code=<token>[,<token>…][&patient=<id>][&category=<token>]
 *     [&value-quantity=<prefix><number>[|<system>|<code>]]…
 *     [&component-code=<token>][&component-value-quantity=<prefix><number>[|<system>|<code>]]…
 *     [&component-code-value-quantity=<token>$<prefix><number>[|<system>|<code>]]…
 *
 * with prefixes gt, ge, lt, le, eq, ne (none means eq). `eq`/`ne` use the implicit precision of the number
 * as FHIR search does (eq100 is [99.5, 100.5)); the others compare exactly. Repeated value conditions are
 * ANDed (ge60&le100 is a range). Anything else is refused with a message that names the parameter, so a
 * typo cannot make a subscription match more (or less) than its owner meant. Pure.
 */
import { categoryOfCode, type DataCategory } from '../access/policy.ts';
import { observationCodesForToken } from './code-search.ts';
import { OBSERVATION_CATEGORY } from './profiles.ts';

export const QUANTITY_PREFIXES = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
export type QuantityPrefix = (typeof QUANTITY_PREFIXES)[number];

/** One quantity condition: prefix, number (with the range its precision stands for) and optional unit. */
export interface QuantityCondition {
  readonly prefix: QuantityPrefix;
  readonly value: number;
  /** [lo, hi): the implicit range of the number as written (eq/ne). */
  readonly lo: number;
  readonly hi: number;
  /** `|system|code`: the system ('' or absent: any) and the unit code the quantity must carry. */
  readonly system?: string;
  readonly unit?: string;
}

export interface ComponentCondition {
  /** Index codes the component's code must be one of (absent: any component). */
  readonly codes?: readonly Token[];
  readonly quantity: QuantityCondition;
}

/** A token as written: optional system (undefined: any) and code. */
export interface Token {
  readonly system?: string;
  readonly code: string;
}

export interface SubscriptionCriteria {
  /** Index codes (heart-rate, blood-pressure, …) the Observation's code may be: the cheap pre-filter. */
  readonly codes: readonly string[];
  readonly patientId?: string;
  /** Data categories (vital-signs, waveforms, activity): what consent restricts, too. */
  readonly categories?: readonly DataCategory[];
  readonly values: readonly QuantityCondition[];
  readonly components: readonly ComponentCondition[];
}

export type CriteriaResult =
  | { readonly ok: true; readonly criteria: SubscriptionCriteria }
  | { readonly ok: false; readonly diagnostics: string };

const MAX_LENGTH = 1024;
const MAX_VALUE_CONDITIONS = 4;
const PATIENT = /^(?:Patient\/)?([A-Za-z0-9\-._@+]{1,128})$/;
const NUMBER = /^(eq|ne|gt|ge|lt|le)?(-?(?:\d{1,15})(?:\.(\d{1,9}))?(?:[eE][+-]?\d{1,3})?)$/;
const KNOWN = [
  'code',
  'patient',
  'subject',
  'category',
  'value-quantity',
  'component-code',
  'component-value-quantity',
  'component-code-value-quantity',
];
const REPEATABLE = ['value-quantity', 'component-value-quantity', 'component-code-value-quantity'];

class CriteriaError extends Error {}
const fail = (m: string): never => {
  throw new CriteriaError(m);
};

/** Parses `Subscription.criteria`; on refusal the diagnostics say what is wrong and which parameter. */
export function parseSubscriptionCriteria(raw: unknown): CriteriaResult {
  try {
    return { ok: true, criteria: parse(raw) };
  } catch (e) {
    if (e instanceof CriteriaError) return { ok: false, diagnostics: e.message };
    throw e;
  }
}

function parse(raw: unknown): SubscriptionCriteria {
  if (typeof raw !== 'string' || raw.length === 0) fail('criteria must be a search URL on Observation');
  const text = raw as string;
  if (text.length > MAX_LENGTH) fail(`criteria must be at most ${MAX_LENGTH} characters`);
  const q = text.indexOf('?');
  const type = q < 0 ? text : text.slice(0, q);
  if (type !== 'Observation')
    fail(
      `only Observation criteria are supported (Observation?code=…), not ${JSON.stringify(type.slice(0, 40))}`,
    );
  const params = new Map<string, string[]>();
  for (const pair of (q < 0 ? '' : text.slice(q + 1)).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`parameter ${JSON.stringify(pair.slice(0, 40))} has no value`);
    const name = decode(pair.slice(0, eq), 'a parameter name');
    const value = decode(pair.slice(eq + 1), name);
    if (!KNOWN.includes(name))
      fail(`unknown parameter ${JSON.stringify(name.slice(0, 40))}: use ${KNOWN.join(', ')}`);
    if (value === '') fail(`${name} has an empty value`);
    const list = params.get(name) ?? [];
    if (list.length > 0 && !REPEATABLE.includes(name)) fail(`${name} may be given once`);
    if (list.length >= MAX_VALUE_CONDITIONS)
      fail(`${name} may be given at most ${MAX_VALUE_CONDITIONS} times`);
    params.set(name, [...list, value]);
  }
  const one = (name: string) => params.get(name)?.[0];
  const codeValue = one('code');
  if (codeValue === undefined) fail('code is required: a subscription names what it watches');
  const codes = [...new Set((codeValue as string).split(',').flatMap((t) => tokenCodes(t, 'code')))].sort();
  if (one('patient') !== undefined && one('subject') !== undefined) fail('give patient or subject, not both');
  const patientRaw = one('patient') ?? one('subject');
  const patientId =
    patientRaw === undefined
      ? undefined
      : (PATIENT.exec(patientRaw)?.[1] ??
        fail(`${one('patient') ? 'patient' : 'subject'} must be Patient/<id>`));
  const category = one('category');
  const categories = category === undefined ? undefined : category.split(',').map(categoryToken);
  const componentCodeValue = one('component-code');
  const componentCodes =
    componentCodeValue === undefined
      ? undefined
      : componentCodeValue.split(',').map((t) => token(t, 'component-code'));
  if (componentCodes && !params.has('component-value-quantity'))
    fail('component-code needs component-value-quantity');
  const values = (params.get('value-quantity') ?? []).map((v) => quantity(v, 'value-quantity'));
  const components: ComponentCondition[] = [
    ...(params.get('component-value-quantity') ?? []).map((v) => ({
      ...(componentCodes ? { codes: componentCodes } : {}),
      quantity: quantity(v, 'component-value-quantity'),
    })),
    ...(params.get('component-code-value-quantity') ?? []).map((v) => {
      const dollar = v.indexOf('$');
      if (dollar <= 0) fail('component-code-value-quantity must be <code>$<prefix><number>');
      return {
        codes: [token(v.slice(0, dollar), 'component-code-value-quantity')],
        quantity: quantity(v.slice(dollar + 1), 'component-code-value-quantity'),
      };
    }),
  ];
  return {
    codes,
    ...(patientId !== undefined ? { patientId } : {}),
    ...(categories ? { categories } : {}),
    values,
    components,
  };
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return fail(`${what} is not valid percent-encoding`);
  }
}

function token(t: string, name: string): Token {
  const bar = t.indexOf('|');
  const system = bar < 0 ? undefined : t.slice(0, bar);
  const code = bar < 0 ? t : t.slice(bar + 1);
  if (code === '' || code.length > 128 || /[\s$|,]/.test(code))
    fail(`${name}: ${JSON.stringify(t.slice(0, 60))} is not a code`);
  return system === undefined || system === '' ? { code } : { system, code };
}

function tokenCodes(t: string, name: string): string[] {
  token(t, name);
  const codes = observationCodesForToken(t);
  if (codes.length === 0)
    fail(`${name}: ${JSON.stringify(t.slice(0, 60))} is not a code this server records`);
  return codes;
}

const OBSERVATION_CATEGORIES: readonly DataCategory[] = ['vital-signs', 'waveforms', 'activity'];
const CATEGORY_SYSTEMS = [OBSERVATION_CATEGORY, 'https://openiomt.org/fhir/CodeSystem/data-category'];

/** The same category tokens as Observation search: vital-signs, waveforms, activity, with or without system. */
function categoryToken(t: string): DataCategory {
  const tok = token(t, 'category');
  if (
    (tok.system !== undefined && !CATEGORY_SYSTEMS.includes(tok.system)) ||
    !OBSERVATION_CATEGORIES.includes(tok.code as DataCategory)
  )
    fail(
      `category must be one of ${OBSERVATION_CATEGORIES.join(', ')}, got ${JSON.stringify(t.slice(0, 60))}`,
    );
  return tok.code as DataCategory;
}

/** `[prefix]number[|system|code]`. */
export function parseQuantityCondition(v: string, name = 'value-quantity'): QuantityCondition | undefined {
  try {
    return quantity(v, name);
  } catch (e) {
    if (e instanceof CriteriaError) return undefined;
    throw e;
  }
}

function quantity(v: string, name: string): QuantityCondition {
  const parts = v.split('|');
  if (parts.length !== 1 && parts.length !== 3) fail(`${name} must be [prefix]<number>[|<system>|<unit>]`);
  const m = NUMBER.exec(parts[0] as string);
  if (!m) fail(`${name} must be [gt|ge|lt|le|eq|ne]<number>, got ${JSON.stringify(v.slice(0, 40))}`);
  const [, prefix = 'eq', num, decimals] = m as RegExpExecArray;
  const value = Number(num);
  if (!Number.isFinite(value)) fail(`${name}: ${JSON.stringify(num)} is out of range`);
  // Implicit precision: 100 stands for [99.5, 100.5), 100.0 for [99.95, 100.05).
  const half = 0.5 * 10 ** -(decimals?.length ?? 0);
  const system = parts[1];
  const unit = parts[2];
  if (parts.length === 3 && unit === '') fail(`${name}: the unit after the system must not be empty`);
  return {
    prefix: prefix as QuantityPrefix,
    value,
    lo: value - half,
    hi: value + half,
    ...(system ? { system } : {}),
    ...(unit ? { unit } : {}),
  };
}

// ----- matching -----

interface Coding {
  readonly system?: string;
  readonly code?: string;
}
interface Concept {
  readonly coding?: readonly Coding[];
}
interface Quantity {
  readonly value?: number;
  readonly system?: string;
  readonly code?: string;
  readonly unit?: string;
}
/** The parts of an Observation the criteria look at (mapped and derived Observations both fit). */
export interface ObservationToMatch {
  readonly code?: Concept;
  readonly category?: readonly Concept[];
  readonly subject?: { readonly reference?: string };
  readonly valueQuantity?: Quantity;
  readonly valueSampledData?: unknown;
  readonly component?: readonly { readonly code?: Concept; readonly valueQuantity?: Quantity }[];
}

/** Whether a number satisfies a condition (the reference model for the quantity rules). */
export function matchesNumber(x: number, c: QuantityCondition): boolean {
  switch (c.prefix) {
    case 'eq':
      return x >= c.lo && x < c.hi;
    case 'ne':
      return x < c.lo || x >= c.hi;
    case 'gt':
      return x > c.value;
    case 'ge':
      return x >= c.value;
    case 'lt':
      return x < c.value;
    case 'le':
      return x <= c.value;
  }
}

function matchesQuantity(q: Quantity | undefined, c: QuantityCondition): boolean {
  if (q?.value === undefined || !Number.isFinite(q.value)) return false;
  if (c.system !== undefined && q.system !== c.system) return false;
  if (c.unit !== undefined && q.code !== c.unit && !(c.system === undefined && q.unit === c.unit))
    return false;
  return matchesNumber(q.value, c);
}

const hasToken = (concept: Concept | undefined, tokens: readonly Token[]) =>
  (concept?.coding ?? []).some((coding) =>
    tokens.some((t) => coding.code === t.code && (t.system === undefined || coding.system === t.system)),
  );

/**
 * The index codes an Observation's code stands for: those every one of its codings names (a pulse-rate
 * Observation carries LOINC 8867-4, shared with heart rate, and its own MDC code), else any of them.
 */
export function indexCodesOf(o: ObservationToMatch): string[] {
  const perCoding = (o.code?.coding ?? []).map(
    (c) => new Set(observationCodesForToken(`${c.system ?? ''}|${c.code ?? ''}`)),
  );
  const union = [...new Set(perCoding.flatMap((s) => [...s]))];
  const all = union.filter((k) => perCoding.every((s) => s.has(k)));
  return all.length > 0 ? all : union;
}

/** The data category of an Observation (consent's unit): waveforms carry SampledData, else by code. */
export function dataCategoryOf(o: ObservationToMatch): DataCategory {
  if (o.valueSampledData !== undefined) return 'waveforms';
  const code = indexCodesOf(o)[0];
  return code === undefined ? 'vital-signs' : categoryOfCode(code);
}

/** Whether the Observation meets every condition of the criteria. */
export function matchesCriteria(c: SubscriptionCriteria, o: ObservationToMatch): boolean {
  if (!indexCodesOf(o).some((code) => c.codes.includes(code))) return false;
  if (c.patientId !== undefined && o.subject?.reference !== `Patient/${c.patientId}`) return false;
  if (c.categories && !c.categories.includes(dataCategoryOf(o))) return false;
  if (!c.values.every((v) => matchesQuantity(o.valueQuantity, v))) return false;
  return c.components.every((cc) =>
    (o.component ?? []).some(
      (comp) =>
        (cc.codes === undefined || hasToken(comp.code, cc.codes)) &&
        matchesQuantity(comp.valueQuantity, cc.quantity),
    ),
  );
}
