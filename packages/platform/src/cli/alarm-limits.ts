/**
 * `openiomt alarm limits|set-limit|reset-limit|scale2`: a patient's alarm limits from the command line,
 * as a clinician sets them on the web (`GET|PUT /api/v1/patients/{id}/alarm-settings`, docs/alarms.md).
 * Every change is a compare-and-set on the version just read (If-Match): a change made meanwhile by
 * someone else is never overwritten.
 */
import type { Command } from 'commander';
import { connectionOptions, printTable } from './admin.ts';
import { type AdminConnection, adminConnection, adminExchange, CliError } from './admin-client.ts';

export interface ThresholdRule {
  readonly vital: string;
  readonly direction: 'high' | 'low';
  readonly limit: number;
  readonly hysteresis: number;
  readonly priority: 'high' | 'medium' | 'low';
  readonly forMs?: number;
  readonly consecutive?: number;
  readonly clearConsecutive?: number;
}

export interface AlarmSettings {
  readonly thresholds: readonly ThresholdRule[];
  readonly defaults: readonly ThresholdRule[];
  readonly spo2Scale2: boolean;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** What `set-limit` changes; what is not given is kept from the patient's rule, else the default. */
export interface RuleChange {
  readonly vital: string;
  readonly direction: 'high' | 'low';
  readonly limit?: number;
  readonly hysteresis?: number;
  readonly priority?: 'high' | 'medium' | 'low';
  readonly forS?: number;
  readonly readings?: number;
}

const same = (a: { vital: string; direction: string }, b: { vital: string; direction: string }) =>
  a.vital === b.vital && a.direction === b.direction;

/** The patient's rules with this one changed or added. */
export function withRule(s: AlarmSettings, c: RuleChange): ThresholdRule[] {
  const base = s.thresholds.find((r) => same(r, c)) ?? s.defaults.find((r) => same(r, c));
  const limit = c.limit ?? base?.limit;
  if (limit === undefined)
    throw new CliError(`${c.vital} ${c.direction} has no default limit: give --limit (and --hysteresis)`);
  const { forMs: _f, consecutive: _c, ...kept } = base ?? { hysteresis: 0, priority: 'medium' as const };
  const forMs = c.forS !== undefined ? c.forS * 1000 : base?.forMs;
  const consecutive = c.readings ?? base?.consecutive;
  const rule: ThresholdRule = {
    ...kept,
    vital: c.vital,
    direction: c.direction,
    limit,
    hysteresis: c.hysteresis ?? base?.hysteresis ?? 0,
    priority: c.priority ?? base?.priority ?? 'medium',
    // 0 means "at once" / "one reading": the rule then carries neither.
    ...(forMs ? { forMs } : {}),
    ...(consecutive && consecutive > 1 ? { consecutive } : {}),
  };
  const at = s.thresholds.findIndex((r) => same(r, c));
  return at === -1 ? [...s.thresholds, rule] : s.thresholds.map((r, i) => (i === at ? rule : r));
}

/** The rules in force for the patient: theirs, and the defaults they have not changed. */
export function rulesInForce(s: AlarmSettings): (ThresholdRule & { origin: string })[] {
  const own = s.thresholds.map((r) => ({
    ...r,
    origin: s.defaults.some((d) => same(d, r)) ? 'changed' : 'added',
  }));
  const defaults = s.defaults
    .filter((d) => !s.thresholds.some((r) => same(r, d)))
    .map((d) => ({ ...d, origin: 'default' }));
  return [...own, ...defaults].sort(
    (a, b) => a.vital.localeCompare(b.vital) || a.direction.localeCompare(b.direction),
  );
}

const settingsPath = (patient: string) => `/api/v1/patients/${encodeURIComponent(patient)}/alarm-settings`;

async function read(c: AdminConnection, patient: string) {
  return adminExchange<AlarmSettings>(c, 'GET', settingsPath(patient));
}

/** Saves `change` on the version read; a save by someone else since is refused, and said so. */
export async function saveSettings(
  c: AdminConnection,
  patient: string,
  etag: string | undefined,
  change: object,
) {
  try {
    return (
      await adminExchange<AlarmSettings>(
        c,
        'PUT',
        settingsPath(patient),
        change,
        etag ? { 'if-match': etag } : {},
      )
    ).data;
  } catch (e) {
    if (e instanceof CliError && /^Precondition failed/.test(e.message))
      throw new CliError(
        `${e.message.replace(/^Precondition failed: /, '')}. Nothing was changed: run the command again`,
      );
    throw e;
  }
}

function show(s: AlarmSettings): void {
  printTable(
    rulesInForce(s).map((r) => ({
      ...r,
      forS: r.forMs === undefined ? '' : r.forMs / 1000,
      readings: r.consecutive ?? '',
    })),
    ['vital', 'direction', 'limit', 'hysteresis', 'priority', 'forS', 'readings', 'origin'],
  );
  process.stdout.write(
    `SpO2 Scale 2 (NEWS2): ${s.spo2Scale2 ? 'prescribed' : 'not prescribed'}${s.updatedAt ? `; last changed ${s.updatedAt} by ${s.updatedBy}` : ''}\n`,
  );
}

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new CliError(`--${name} must be a number, not ${JSON.stringify(v)}`);
  return n;
};

export function alarmLimitCommands(alarm: Command): void {
  connectionOptions(
    alarm.command('limits <patient>').description("a patient's alarm limits in force, and NEWS2 Scale 2"),
  ).action(async (patient, o) => show((await read(adminConnection(o), patient)).data));

  connectionOptions(
    alarm
      .command('set-limit <patient>')
      .description("change or add one of a patient's alarm limits (what is not given is kept)"),
  )
    .requiredOption(
      '--vital <code>',
      'e.g. heart-rate, spo2, respiratory-rate, bp-systolic, body-temperature',
    )
    .requiredOption('--direction <high|low>', 'which side of the limit alarms')
    .option('--limit <value>', 'the limit, in the vital sign’s unit', number('limit'))
    .option(
      '--hysteresis <value>',
      'how far back the value must come before the condition clears',
      number('hysteresis'),
    )
    .option('--priority <high|medium|low>', 'the alarm’s priority')
    .option('--for-s <seconds>', 'the limit must be crossed this long (0: at once)', number('for-s'))
    .option('--readings <n>', 'this many readings in a row (1: one)', number('readings'))
    .action(async (patient, o) => {
      if (o.direction !== 'high' && o.direction !== 'low')
        throw new CliError('--direction must be high or low');
      if (o.priority !== undefined && !['high', 'medium', 'low'].includes(o.priority))
        throw new CliError('--priority must be high, medium or low');
      const c = adminConnection(o);
      const { data, etag } = await read(c, patient);
      const thresholds = withRule(data, {
        vital: o.vital,
        direction: o.direction,
        limit: o.limit,
        hysteresis: o.hysteresis,
        priority: o.priority,
        forS: o.forS,
        readings: o.readings,
      });
      show({ ...data, ...(await saveSettings(c, patient, etag, { thresholds })) });
    });

  connectionOptions(
    alarm
      .command('reset-limit <patient>')
      .description('return one of a patient’s alarm limits to the default (or remove one added)'),
  )
    .requiredOption('--vital <code>', 'the vital sign')
    .requiredOption('--direction <high|low>', 'which limit')
    .action(async (patient, o) => {
      const c = adminConnection(o);
      const { data, etag } = await read(c, patient);
      const thresholds = data.thresholds.filter((r) => !same(r, o));
      if (thresholds.length === data.thresholds.length)
        throw new CliError(
          `${patient} has no limit of its own for ${o.vital} ${o.direction}: nothing to reset`,
        );
      show({ ...data, ...(await saveSettings(c, patient, etag, { thresholds })) });
    });

  connectionOptions(
    alarm
      .command('scale2 <patient> <on|off>')
      .description('prescribe SpO2 Scale 2 for NEWS2 (hypercapnic respiratory failure), or stop it'),
  ).action(async (patient, value, o) => {
    if (value !== 'on' && value !== 'off') throw new CliError('say on or off');
    const c = adminConnection(o);
    const { data, etag } = await read(c, patient);
    show({ ...data, ...(await saveSettings(c, patient, etag, { spo2Scale2: value === 'on' })) });
  });
}
