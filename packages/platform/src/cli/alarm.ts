import { ALARM_PRIORITIES, DEFAULT_ALARM_POLICY } from '@openiomt/core';
import type { Command } from 'commander';
import { connectionOptions, listAll, print, printTable } from './admin.ts';
import { adminConnection, adminRequest, CliError } from './admin-client.ts';
import { alarmLimitCommands } from './alarm-limits.ts';
import { userIdOf } from './people.ts';

const ACTIONS = {
  ack: { action: 'acknowledge', about: 'acknowledge an active alarm (stops reminders and escalation)' },
  resolve: { action: 'resolve', about: 'resolve an alarm' },
  escalate: { action: 'escalate', about: 'escalate an alarm to the next level now' },
} as const;

/** `openiomt alarm list|show|ack|assign|snooze|escalate|resolve|limits|...` and `openiomt news2 <patient>`. */
export function alarmCommands(program: Command): void {
  const alarm = program.command('alarm').description('list alarms and act on them');

  connectionOptions(alarm.command('list').description('alarms, newest first'))
    .option('--patient <id>', "only this patient's alarms")
    .option('--state <state>', 'open (default), active, acknowledged or resolved', 'open')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) => {
      const q = new URLSearchParams({ state: o.state, ...(o.patient ? { patient: o.patient } : {}) });
      printTable(await listAll(adminConnection(o), `/api/v1/alarms?${q}`, Number(o.limit)), [
        'id',
        'patientId',
        'condition',
        'priority',
        'state',
        'conditionPresent',
        'escalationLevel',
      ]);
    });

  alarmLimitCommands(alarm);

  connectionOptions(
    alarm.command('show <id>').description('an alarm with its audit trail and notifications'),
  ).action(async (id, o) =>
    print(await adminRequest(adminConnection(o), 'GET', `/api/v1/alarms/${encodeURIComponent(id)}`)),
  );

  for (const [name, { action, about }] of Object.entries(ACTIONS)) {
    const command = connectionOptions(alarm.command(`${name} <id>`).description(about)).option(
      '--reason <text>',
      'why (kept in the audit trail)',
    );
    if (action === 'resolve')
      command.option(
        '--force',
        'resolve though the condition is present, when it can no longer be measured (needs --reason)',
      );
    command.action(async (id, o) =>
      print(await act(o, id, action, { reason: o.reason, ...(o.force ? { force: true } : {}) })),
    );
  }
  connectionOptions(
    alarm
      .command('assign <id> <person>')
      .description(
        "assign an alarm to a clinician or nurse on the patient's care team (their username or user id)",
      ),
  )
    .option('--reason <text>', 'why (kept in the audit trail)')
    .action(async (id, person, o) => {
      const assignee = await userIdOf(adminConnection(o), person);
      print(await act(o, id, 'assign', { assignee, reason: o.reason }));
    });
  connectionOptions(
    alarm
      .command('snooze')
      .description('silence reminders and escalation of an active alarm for a while')
      .argument('<id>', 'the alarm')
      .argument('<seconds>', `how long, in whole seconds: ${SNOOZE_MAXIMA}`),
  )
    .option('--reason <text>', 'why (kept in the audit trail)')
    .action(async (id, seconds, o) =>
      print(await act(o, id, 'snooze', { durationS: snoozeSeconds(seconds), reason: o.reason })),
    );

  connectionOptions(program.command('news2 <patient>').description("a patient's latest NEWS2 score")).action(
    async (patient, o) =>
      print(
        await adminRequest(
          adminConnection(o),
          'GET',
          `/api/v1/patients/${encodeURIComponent(patient)}/news2`,
        ),
      ),
  );
}

/** The longest snooze of each priority (the platform's alarm policy), for the help. */
const SNOOZE_MAXIMA = `at most ${[...ALARM_PRIORITIES]
  .reverse()
  .map((p) => `${DEFAULT_ALARM_POLICY[p].maxSnoozeMs / 1000} for a ${p} alarm`)
  .join(', ')}`;

/** The seconds typed for a snooze; the platform checks the maximum for the alarm's priority. */
export function snoozeSeconds(text: string): number {
  const t = text.trim();
  if (!/^\d{1,9}$/.test(t) || Number(t) < 1)
    throw new CliError(
      `<seconds> must be a whole number of seconds, such as 120 for two minutes (${SNOOZE_MAXIMA}); got ${JSON.stringify(text)}`,
    );
  return Number(t);
}

function act(o: Record<string, string>, id: string, action: string, body: Record<string, unknown>) {
  return adminRequest(adminConnection(o), 'POST', `/api/v1/alarms/${encodeURIComponent(id)}/${action}`, body);
}
