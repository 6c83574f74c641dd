import type { Command } from 'commander';
import { type AdminConnection, adminConnection, adminRequest } from './admin-client.ts';

interface Page<T> {
  items: T[];
  next?: string;
}

export const connectionOptions = (c: Command): Command =>
  c
    .option('--url <url>', 'platform URL (default OPENIOMT_URL or http://127.0.0.1:8080)')
    .option('--token-file <file>', 'file holding the administrator token (default OPENIOMT_ADMIN_TOKEN)');

const conn = (opts: { url?: string; tokenFile?: string }): AdminConnection => adminConnection(opts);
export const print = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cells = rows.map((r) =>
    columns.map((c) => (r[c] === undefined || r[c] === null ? '' : String(r[c]))),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
  if (rows.length === 0) process.stdout.write('(none)\n');
}

const ENROLMENT_TTL_HELP = 'how long the one-time enrolment code works (60 s to 30 days; default 24 h)';

interface ShownDevice {
  id: string;
  status: string;
  quarantine?: { at: string; reason: string; by: string };
}

/**
 * What a person reading `device show` must not miss: a quarantine leaves the status `active` (the keys
 * stay), yet every reading is refused. Said on stderr so the JSON on stdout stays whole.
 */
export function deviceStateNote(d: ShownDevice): string | undefined {
  if (d.status === 'revoked')
    return `Device ${d.id} is REVOKED: its messages are refused and its keys are gone.`;
  if (d.quarantine)
    return (
      `Device ${d.id} is QUARANTINED since ${d.quarantine.at} by ${d.quarantine.by} (${d.quarantine.reason}): ` +
      `its readings are refused and kept as dead letters. Lift it with: openiomt device release ${d.id} --reason <why>`
    );
  return undefined;
}

/** One page of a list: `path` may already hold a query, possibly empty ("…?"), which the audit log keeps as asked. */
export function pagePath(path: string, limit: number, cursor?: string): string {
  const sep = path.endsWith('?') ? '' : path.includes('?') ? '&' : '?';
  return `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
}

export async function listAll<T>(c: AdminConnection, path: string, limit: number): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await adminRequest<Page<T>>(
      c,
      'GET',
      pagePath(path, Math.min(limit - items.length, 1000), cursor),
    );
    items.push(...page.items);
    cursor = page.next;
  } while (cursor && items.length < limit);
  return items;
}

/** Administrator commands: patients, devices, assignments, dead letters and security events. */
export function adminCommands(program: Command): void {
  const patient = program.command('patient').description('register, find, show, list and erase patients');
  connectionOptions(patient.command('add').description('register a patient'))
    .option('--id <id>', 'patient id (default: generated)')
    .option('--identifier <value>', 'external identifier, e.g. hospital number')
    .option('--display-name <name>', 'name shown to clinicians')
    .option('--birth-date <yyyy-mm-dd>', 'date of birth')
    .option('--phone <number>')
    .option('--email <address>')
    .option('--address <text>', 'postal address')
    .action(async (o) =>
      print(
        await adminRequest(conn(o), 'POST', '/api/v1/admin/patients', {
          id: o.id,
          identifier: o.identifier,
          displayName: o.displayName,
          birthDate: o.birthDate,
          phone: o.phone,
          email: o.email,
          address: o.address,
        }),
      ),
    );
  connectionOptions(patient.command('find').description('find patients by identifier (exact match)'))
    .requiredOption('--identifier <value>', 'e.g. hospital number')
    .action(async (o) =>
      printTable(
        (
          await adminRequest<Page<Record<string, unknown>>>(
            conn(o),
            'POST',
            '/api/v1/admin/patients/search',
            {
              identifier: o.identifier,
            },
          )
        ).items,
        ['id', 'identifier', 'displayName', 'birthDate', 'createdAt'],
      ),
    );
  connectionOptions(
    patient
      .command('erase <id>')
      .description(
        "erase a patient's identity for good: their key is destroyed; readings stay, under the pseudonymous id",
      ),
  )
    .requiredOption('--reason <text>', 'why, e.g. the erasure request reference (no identifying data)')
    .action(async (id, o) =>
      print(
        await adminRequest(conn(o), 'POST', `/api/v1/admin/patients/${encodeURIComponent(id)}/erase`, {
          reason: o.reason,
        }),
      ),
    );
  connectionOptions(
    patient.command('show <id>').description('one patient: identity, FHIR Patient, erasure'),
  ).action(async (id, o) =>
    print(await adminRequest(conn(o), 'GET', `/api/v1/admin/patients/${encodeURIComponent(id)}`)),
  );
  connectionOptions(patient.command('list').description('list patients'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) =>
      printTable(await listAll(conn(o), '/api/v1/admin/patients', Number(o.limit)), [
        'id',
        'identifier',
        'displayName',
        'createdAt',
        'erasedAt',
      ]),
    );

  const device = program.command('device').description('provision, enrol, assign and revoke devices');
  connectionOptions(
    device.command('register <id>').description('register a device; prints its one-time enrolment code'),
  )
    .requiredOption(
      '--kind <kind>',
      'ecg-patch, pulse-oximeter, bp-cuff, thermometer, wearable, monitor, gateway or other',
    )
    .option('--model <model>')
    .option('--manufacturer <name>')
    .option('--interval <seconds>', 'expected reporting interval', (v) => Number(v))
    .option('--enrolment-ttl <seconds>', ENROLMENT_TTL_HELP, (v) => Number(v))
    .action(async (id, o) =>
      print(
        await adminRequest(conn(o), 'POST', '/api/v1/admin/devices', {
          id,
          kind: o.kind,
          model: o.model,
          manufacturer: o.manufacturer,
          expectedIntervalS: o.interval,
          enrolmentTtlS: o.enrolmentTtl,
        }),
      ),
    );
  connectionOptions(device.command('list').description('the device fleet'))
    .option('--status <status>', 'registered, active, revoked or quarantined')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) =>
      printTable(
        (
          await listAll<Record<string, unknown> & { quarantine?: { at: string } }>(
            conn(o),
            `/api/v1/admin/devices${o.status ? `?status=${o.status}` : ''}`,
            Number(o.limit),
          )
        ).map((d) => ({ ...d, quarantined: d.quarantine?.at })),
        ['id', 'kind', 'status', 'quarantined', 'lastSeenAt', 'battery', 'firmware', 'highSeq'],
      ),
    );
  connectionOptions(
    device.command('show <id>').description('a device with its keys and assignment history'),
  ).action(async (id, o) => {
    const shown = await adminRequest<ShownDevice>(
      conn(o),
      'GET',
      `/api/v1/admin/devices/${encodeURIComponent(id)}`,
    );
    const note = deviceStateNote(shown);
    if (note) process.stderr.write(`${note}\n`);
    print(shown);
  });
  connectionOptions(
    device.command('enrolment-code <id>').description('issue a fresh one-time enrolment code'),
  )
    .option('--enrolment-ttl <seconds>', ENROLMENT_TTL_HELP, (v) => Number(v))
    .action(async (id, o) =>
      print(
        await adminRequest(
          conn(o),
          'POST',
          `/api/v1/admin/devices/${encodeURIComponent(id)}/enrolment-code`,
          { enrolmentTtlS: o.enrolmentTtl },
        ),
      ),
    );
  connectionOptions(
    device
      .command('revoke <id>')
      .description('revoke a device: its session is closed and its messages refused'),
  )
    .requiredOption('--reason <text>', 'why (kept in the security log)')
    .action(async (id, o) =>
      print(
        await adminRequest(conn(o), 'POST', `/api/v1/admin/devices/${encodeURIComponent(id)}/revoke`, {
          reason: o.reason,
        }),
      ),
    );
  for (const [name, description] of [
    [
      'quarantine',
      'quarantine a device: its session is closed and its readings refused (kept), its keys stay',
    ],
    ['release', 'lift a quarantine: the device is believed again'],
  ] as const)
    connectionOptions(device.command(`${name} <id>`).description(description))
      .requiredOption('--reason <text>', 'why (kept in the security and audit logs)')
      .action(async (id, o) =>
        print(
          await adminRequest(conn(o), 'POST', `/api/v1/admin/devices/${encodeURIComponent(id)}/${name}`, {
            reason: o.reason,
          }),
        ),
      );
  connectionOptions(device.command('assign <id>').description('assign the device to a patient for a period'))
    .requiredOption('--patient <id>')
    .option('--from <iso>', 'start (default now)')
    .option('--to <iso>', 'end (default open)')
    .action(async (id, o) =>
      print(
        await adminRequest(conn(o), 'POST', `/api/v1/admin/devices/${encodeURIComponent(id)}/assignments`, {
          patientId: o.patient,
          from: o.from,
          to: o.to,
        }),
      ),
    );
  connectionOptions(device.command('unassign <id>').description("end the device's current assignment"))
    .option('--at <iso>', 'end time (default now)')
    .action(async (id, o) =>
      print(
        await adminRequest(
          conn(o),
          'POST',
          `/api/v1/admin/devices/${encodeURIComponent(id)}/assignments/end`,
          { at: o.at },
        ),
      ),
    );

  connectionOptions(
    program.command('dead-letters').description('messages refused by ingest, with their reasons'),
  )
    .option('--device <id>', 'only those pinned on this device')
    .option('--reason <code>', 'only this refusal reason (docs/device-protocol.md §5), e.g. bad-signature')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print them whole (id, topic, raw payload in base64) instead of a table')
    .action(async (o) => {
      const q = new URLSearchParams({
        ...(o.device ? { device: o.device } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
      const letters = await listAll<Record<string, unknown>>(
        conn(o),
        `/api/v1/admin/dead-letters?${q}`,
        Number(o.limit),
      );
      if (o.json) return print(letters);
      printTable(letters, ['receivedAt', 'via', 'deviceId', 'topic', 'reason', 'field', 'detail']);
    });
  connectionOptions(
    program
      .command('reading <device> <seq>')
      .description('one stored reading: the signed message as received, its patient and Provenance'),
  ).action(async (device, seq, o) =>
    print(
      await adminRequest(
        conn(o),
        'GET',
        `/api/v1/admin/readings/${encodeURIComponent(device)}/${encodeURIComponent(seq)}`,
      ),
    ),
  );
  connectionOptions(
    program
      .command('security-events')
      .description('authentication failures, forged and replayed messages, ACL violations'),
  )
    .option('--device <id>', 'only those about this device')
    .option('--kind <kind>', 'only this kind, e.g. bad-signature, auth-failed, intrusion-detected')
    .option('--subsystem <name>', 'only those this part raised: enrolment, rotation or intrusion-detection')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o) => {
      const q = new URLSearchParams({
        ...(o.device ? { device: o.device } : {}),
        ...(o.kind ? { kind: o.kind } : {}),
        ...(o.subsystem ? { subsystem: o.subsystem } : {}),
      });
      printTable(await listAll(conn(o), `/api/v1/admin/security-events?${q}`, Number(o.limit)), [
        'at',
        'kind',
        'deviceId',
        'source',
        'subsystem',
        'detail',
      ]);
    });
}
