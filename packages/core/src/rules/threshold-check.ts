/**
 * A patient's own limit rules, checked as a set before they are saved, so that every limit a clinician
 * sets can both alarm and clear. The rules take effect over the defaults (patientThresholds), so a rule is
 * judged against the rule it will sit beside, whether the patient's own or the default:
 *
 * - numeric vital signs only: consciousness (ACVPU letters), supplemental oxygen and falls (yes/no) have no
 *   numeric limit;
 * - the limit inside the vital sign's physically possible range, the same range a device's reading is held
 *   to (`VITALS`, core/codes/vitals.ts), excluding its ends: an SpO2 low limit of 150 % would alarm on every
 *   reading, a high limit at the top of the range on none;
 * - a positive hysteresis (zero lets a value hovering at the limit flap) whose clearing level is itself
 *   possible (limit - hysteresis for a high rule, limit + hysteresis for a low one);
 * - for a vital with both a low and a high limit, low below high, and each hysteresis smaller than the band
 *   between them, so that clearing one alarm does not need a value that breaches the other.
 *
 * Pure; each refusal names the field by JSON pointer into the list (`/2/limit`).
 */
import { isVitalCode, VITALS, type VitalCode } from '../codes/vitals.ts';
import { DEFAULT_THRESHOLDS, type ThresholdRule, thresholdRuleProblem } from './thresholds.ts';

export interface ThresholdProblem {
  /** JSON pointer into the list of rules, e.g. `/2/limit`. */
  readonly field: string;
  readonly detail: string;
}

const key = (r: Pick<ThresholdRule, 'vital' | 'direction'>) => `${r.vital}:${r.direction}`;

/** The first problem with a patient's rules, or undefined when they can all be used. */
export function checkPatientThresholds(rules: readonly ThresholdRule[]): ThresholdProblem | undefined {
  const own = new Map<string, number>();
  for (const [i, rule] of rules.entries()) {
    const p = ruleProblem(rule);
    if (p) return { field: `/${i}/${p.field}`, detail: p.detail };
    if (own.has(key(rule))) return { field: `/${i}`, detail: `a second ${key(rule)} rule` };
    own.set(key(rule), i);
  }
  for (const [i, rule] of rules.entries()) {
    const other = { ...rule, direction: rule.direction === 'high' ? 'low' : 'high' } as const;
    const j = own.get(key(other));
    // A pair of the patient's own rules is judged once, at the later of the two.
    if (j !== undefined && j > i) continue;
    const partner = j === undefined ? DEFAULT_THRESHOLDS.find((d) => key(d) === key(other)) : rules[j];
    if (!partner) continue;
    const p = pairProblem(rule, partner, j === undefined);
    if (p) return { field: `/${p.blame === 'partner' ? j : i}/${p.field}`, detail: p.detail };
  }
  return undefined;
}

function ruleProblem(rule: ThresholdRule): { field: keyof ThresholdRule; detail: string } | undefined {
  if (!isVitalCode(rule.vital))
    return { field: 'vital', detail: 'vital must be a vital-sign code of the catalogue' };
  const v = VITALS[rule.vital];
  if (v.valueKind !== 'quantity' || v.min === undefined || v.max === undefined) {
    const values = v.allowedCodes ? `one of ${v.allowedCodes.join(', ')}` : 'yes or no';
    return {
      field: 'vital',
      detail: `${v.display} is recorded as ${values}, not a number: it has no numeric limit`,
    };
  }
  const basic = thresholdRuleProblem(rule);
  if (basic) return basic;
  const { min, max } = v;
  const unit = v.unitDisplay ? ` ${v.unitDisplay}` : '';
  if (!(rule.limit > min && rule.limit < max)) {
    const never = rule.direction === 'low' ? rule.limit <= min : rule.limit >= max;
    return {
      field: 'limit',
      detail: `limit ${rule.limit} is outside what ${name(rule.vital)} can be (above ${min} and below ${max}${unit}): ${never ? 'it could never alarm' : 'it would alarm on every reading'}`,
    };
  }
  if (!(rule.hysteresis > 0))
    return {
      field: 'hysteresis',
      detail: `hysteresis must be more than 0${unit}: the margin a value must come back past before the alarm clears, so a value at the limit does not make it flap`,
    };
  const clearAt = rule.direction === 'high' ? rule.limit - rule.hysteresis : rule.limit + rule.hysteresis;
  if (clearAt < min || clearAt > max)
    return {
      field: 'hysteresis',
      detail: `hysteresis ${rule.hysteresis} would clear the alarm only at ${round(clearAt)}${unit}, which ${name(rule.vital)} cannot reach (${min} to ${max}${unit}): it could never clear`,
    };
  return undefined;
}

/**
 * Low below high, and each hysteresis inside the band between them. `partnerIsDefault` says the partner
 * is a site default, which the patient's rule must fit: the refusal then names the patient's rule.
 */
function pairProblem(
  rule: ThresholdRule,
  partner: ThresholdRule,
  partnerIsDefault: boolean,
): { blame: 'rule' | 'partner'; field: keyof ThresholdRule; detail: string } | undefined {
  const [low, high] = rule.direction === 'low' ? [rule, partner] : [partner, rule];
  const whose = partnerIsDefault ? 'the default' : "the patient's";
  const vital = name(rule.vital as VitalCode);
  if (!(low.limit < high.limit)) {
    const detail =
      rule.direction === 'high'
        ? `the high ${vital} limit ${high.limit} must be above ${whose} low limit ${low.limit}`
        : `the low ${vital} limit ${low.limit} must be below ${whose} high limit ${high.limit}`;
    return { blame: 'rule', field: 'limit', detail };
  }
  const band = high.limit - low.limit;
  for (const r of [rule, partner]) {
    if (r.hysteresis < band) continue;
    const detail = `the ${r.direction} rule's hysteresis ${r.hysteresis} is not smaller than the ${round(band)} between the low limit ${low.limit} and the high limit ${high.limit}: clearing that alarm would need a value past the other limit`;
    // A default's hysteresis is not the patient's to change here: their limit made the band too narrow.
    if (r === partner && partnerIsDefault) return { blame: 'rule', field: 'limit', detail };
    return { blame: r === rule ? 'rule' : 'partner', field: 'hysteresis', detail };
  }
  return undefined;
}

const name = (code: VitalCode): string => VITALS[code].display.toLowerCase();
/** Enough digits for a message, without binary fractions showing (120 - 0.2 = 119.8, not 119.80000000000001). */
const round = (n: number): number => Math.round(n * 1e6) / 1e6;
