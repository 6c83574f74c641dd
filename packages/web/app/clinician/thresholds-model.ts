/**
 * The per-patient alarm limits form as data (`GET|PUT /api/v1/patients/{id}/alarm-settings`): the
 * defaults merged with the patient's own rules into editable rows, the PUT body holding only the rows
 * that differ from their default, and a refusal's field (`/thresholds/3/limit`) traced back to the row
 * and input it is about. Pure.
 */

export type Direction = 'high' | 'low';
export type RulePriority = 'low' | 'medium' | 'high';

export interface ThresholdRule {
  readonly vital: string;
  readonly direction: Direction;
  readonly limit: number;
  readonly hysteresis: number;
  readonly priority: RulePriority;
  readonly forMs?: number;
  readonly consecutive?: number;
  readonly clearConsecutive?: number;
}

export interface AlarmSettings {
  readonly patientId: string;
  readonly thresholds: readonly ThresholdRule[];
  readonly spo2Scale2: boolean;
  readonly defaults: readonly ThresholdRule[];
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** One editable row; numbers are kept as typed so a half-typed value is not lost. */
export interface RuleDraft {
  readonly vital: string;
  readonly direction: Direction;
  readonly limit: string;
  readonly hysteresis: string;
  readonly priority: RulePriority;
  /** The `forMs` of the rule, in seconds as people think of it. */
  readonly forS: string;
  readonly consecutive: string;
  /** Not edited on the form, but kept so saving does not drop it. */
  readonly clearConsecutive?: number;
  /** The site default for this vital and direction, if there is one. */
  readonly fallback?: ThresholdRule;
}

export type DraftField = 'limit' | 'hysteresis' | 'priority' | 'forS' | 'consecutive';

const key = (r: { vital: string; direction: string }) => `${r.vital}:${r.direction}`;
const text = (n: number | undefined) => (n === undefined ? '' : String(n));

export function draftOf(rule: ThresholdRule, fallback: ThresholdRule | undefined): RuleDraft {
  return {
    vital: rule.vital,
    direction: rule.direction,
    limit: text(rule.limit),
    hysteresis: text(rule.hysteresis),
    priority: rule.priority,
    forS: rule.forMs === undefined ? '' : String(rule.forMs / 1000),
    consecutive: text(rule.consecutive),
    ...(rule.clearConsecutive === undefined ? {} : { clearConsecutive: rule.clearConsecutive }),
    ...(fallback ? { fallback } : {}),
  };
}

/** The defaults with the patient's rules over them, then the patient's rules that have no default. */
export function draftsFrom(s: Pick<AlarmSettings, 'thresholds' | 'defaults'>): RuleDraft[] {
  const own = new Map(s.thresholds.map((r) => [key(r), r]));
  const rows = s.defaults.map((d) => draftOf(own.get(key(d)) ?? d, d));
  for (const r of s.thresholds)
    if (!s.defaults.some((d) => key(d) === key(r))) rows.push(draftOf(r, undefined));
  return rows;
}

/** A typed number: blank is absent; "37,5" is 37.5; anything else is sent as typed for the platform to refuse. */
function parseNumber(s: string): number | string | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) ? n : t;
}

type Wire = Record<string, unknown>;

function wireOf(d: RuleDraft): Wire {
  const forS = parseNumber(d.forS);
  const consecutive = parseNumber(d.consecutive);
  // A blank limit or hysteresis goes as null: the platform names the field ("must be a number").
  return {
    vital: d.vital,
    direction: d.direction,
    limit: parseNumber(d.limit) ?? null,
    hysteresis: parseNumber(d.hysteresis) ?? null,
    priority: d.priority,
    ...(forS === undefined ? {} : { forMs: typeof forS === 'number' ? Math.round(forS * 1000) : forS }),
    ...(consecutive === undefined ? {} : { consecutive }),
    ...(d.clearConsecutive === undefined ? {} : { clearConsecutive: d.clearConsecutive }),
  };
}

/** True when the row says what its default says (then it is not sent: a later default change applies). */
export function isDefault(d: RuleDraft): boolean {
  const f = d.fallback;
  if (!f) return false;
  const w = wireOf(d);
  return (
    w.limit === f.limit &&
    w.hysteresis === f.hysteresis &&
    w.priority === f.priority &&
    w.forMs === f.forMs &&
    w.consecutive === f.consecutive &&
    w.clearConsecutive === f.clearConsecutive
  );
}

export interface SettingsBody {
  readonly body: { thresholds: Wire[]; spo2Scale2: boolean };
  /** Row index of each element of `thresholds`. */
  readonly rowOf: readonly number[];
}

export function toBody(drafts: readonly RuleDraft[], spo2Scale2: boolean): SettingsBody {
  const thresholds: Wire[] = [];
  const rowOf: number[] = [];
  drafts.forEach((d, i) => {
    if (isDefault(d)) return;
    thresholds.push(wireOf(d));
    rowOf.push(i);
  });
  return { body: { thresholds, spo2Scale2 }, rowOf };
}

const FIELD_OF: Readonly<Record<string, DraftField>> = {
  limit: 'limit',
  hysteresis: 'hysteresis',
  priority: 'priority',
  forMs: 'forS',
  consecutive: 'consecutive',
  clearConsecutive: 'consecutive',
};

/**
 * Where a refusal belongs: `/thresholds/2/limit` → that row's limit input; `/thresholds/2` → the row;
 * `/spo2Scale2` → the checkbox; anything else → the form.
 */
export function locateError(
  field: string | undefined,
  rowOf: readonly number[],
): { row?: number; input?: DraftField | 'spo2Scale2' } {
  if (field === '/spo2Scale2') return { input: 'spo2Scale2' };
  const m = /^\/thresholds\/(\d+)(?:\/([A-Za-z]+))?/.exec(field ?? '');
  if (!m) return {};
  const row = rowOf[Number(m[1])];
  if (row === undefined) return {};
  const input = m[2] ? FIELD_OF[m[2]] : undefined;
  return input ? { row, input } : { row };
}
