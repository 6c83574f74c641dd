/**
 * The body of `PUT /api/v1/patients/{id}/alarm-settings` and its entity tags. A field left out keeps its
 * stored value (saving Scale 2 must not wipe the limits, nor saving limits turn Scale 2 off); a body that
 * sets nothing is refused. Each limit rule is checked by core (threshold-check.ts) against the vital's
 * possible range and the rule it sits beside; every refusal names the field (`/thresholds/2/limit`).
 *
 * The entity tag of a patient's settings is the time they were last saved, in epoch milliseconds, which
 * the store keeps strictly increasing (`"0"` while nothing is saved): `If-Match` with it makes a save
 * conditional, so two clinicians editing at once do not silently overwrite each other.
 */
import { checkPatientThresholds, isVitalCode, type ThresholdRule } from '@openiomt/core';
import { bodyObject } from '../http/body.ts';
import { badRequest, HttpProblem } from '../http/problem.ts';

export interface SettingsChange {
  readonly thresholds?: ThresholdRule[];
  readonly spo2Scale2?: boolean;
}

const BODY_KEYS = ['thresholds', 'spo2Scale2'];

export function parseSettingsChange(body: unknown): SettingsChange {
  const b = bodyObject(body);
  const extra = Object.keys(b).find((k) => !BODY_KEYS.includes(k));
  if (extra !== undefined)
    throw badRequest(`unknown property ${extra}; the body may have thresholds and spo2Scale2`, `/${extra}`);
  if (b.thresholds === undefined && b.spo2Scale2 === undefined)
    throw badRequest(
      'the body sets nothing: give thresholds, spo2Scale2 or both (a field left out keeps its stored value)',
      '',
    );
  const scale2 = b.spo2Scale2;
  if (scale2 !== undefined && typeof scale2 !== 'boolean')
    throw badRequest('spo2Scale2 must be true or false', '/spo2Scale2');
  return {
    ...(b.thresholds === undefined ? {} : { thresholds: parseThresholds(b.thresholds) }),
    ...(scale2 === undefined ? {} : { spo2Scale2: scale2 }),
  };
}

const THRESHOLD_KEYS = new Set([
  'vital',
  'direction',
  'limit',
  'hysteresis',
  'priority',
  'forMs',
  'consecutive',
  'clearConsecutive',
]);

/** A patient's threshold overrides, each checked; the refusal names the element at fault. */
export function parseThresholds(raw: unknown): ThresholdRule[] {
  if (!Array.isArray(raw) || raw.length > 64)
    throw badRequest('thresholds must be an array of at most 64 rules', '/thresholds');
  const rules = raw.map((r, i) => {
    const at = `/thresholds/${i}`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badRequest('must be an object', at);
    const o = r as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !THRESHOLD_KEYS.has(k));
    if (extra) throw badRequest(`unknown property ${extra}`, `${at}/${extra}`);
    if (typeof o.vital !== 'string' || !isVitalCode(o.vital))
      throw badRequest('vital must be a vital-sign code of the catalogue', `${at}/vital`);
    if (o.direction !== 'high' && o.direction !== 'low')
      throw badRequest('direction must be high or low', `${at}/direction`);
    if (o.priority !== 'low' && o.priority !== 'medium' && o.priority !== 'high')
      throw badRequest('priority must be low, medium or high', `${at}/priority`);
    const num = (k: string, required: boolean) => {
      const v = o[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'number') throw badRequest(`${k} must be a number`, `${at}/${k}`);
      return v;
    };
    const rule: ThresholdRule = {
      vital: o.vital,
      direction: o.direction,
      priority: o.priority,
      limit: num('limit', true) as number,
      hysteresis: num('hysteresis', true) as number,
      ...optional('forMs', num('forMs', false)),
      ...optional('consecutive', num('consecutive', false)),
      ...optional('clearConsecutive', num('clearConsecutive', false)),
    };
    return rule;
  });
  const problem = checkPatientThresholds(rules);
  if (problem) throw badRequest(problem.detail, `/thresholds${problem.field}`);
  return rules;
}

const optional = <K extends string>(k: K, v: number | undefined) =>
  (v === undefined ? {} : { [k]: v }) as Partial<Record<K, number>>;

/** The entity tag of a patient's settings: when they were saved (ms), or "0" when never. */
export const settingsEtag = (s: { updatedAt: string } | undefined): string =>
  `"${s ? Date.parse(s.updatedAt) : 0}"`;

/**
 * What an `If-Match` header asks the save to find: undefined when it asks nothing (absent, `*`), null
 * for "nothing saved yet" (`"0"`), else the saved time it must still be. One tag; a weak prefix is taken.
 */
export function settingsIfMatch(header: string | string[] | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const h = String(header).trim();
  if (h === '*') return undefined;
  const m = /^(?:W\/)?"(\d{1,15})"$/.exec(h);
  if (!m)
    throw new HttpProblem({
      status: 400,
      title: 'Bad request',
      detail: 'If-Match must be one entity tag as the GET gave it in ETag, e.g. "1764316800123"',
      field: 'If-Match',
    });
  const ms = Number(m[1]);
  return ms === 0 ? null : new Date(ms).toISOString();
}
