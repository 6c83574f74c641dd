/**
 * `openiomt care-team ...`: who cares for whom. A care team's members (clinicians, nurses) see and act on
 * its patients' data and alarms (docs/access-policy.md). People are named by username or user id.
 */
import type { Command } from 'commander';
import { connectionOptions, print, printTable } from './admin.ts';
import { type AdminConnection, adminConnection, adminRequest, CliError } from './admin-client.ts';
import { userIdOf } from './people.ts';

interface CareTeam {
  id: string;
  name: string;
  members: string[];
  patients: string[];
}

const teamPath = (id: string) => `/api/v1/admin/care-teams/${encodeURIComponent(id)}`;

/** The team named by id, or by its exact name when exactly one team has it. */
export async function careTeamIdOf(c: AdminConnection, team: string): Promise<string> {
  const { items } = await adminRequest<{ items: CareTeam[] }>(c, 'GET', '/api/v1/admin/care-teams');
  if (items.some((t) => t.id === team)) return team;
  const named = items.filter((t) => t.name === team);
  if (named.length === 1) return (named[0] as CareTeam).id;
  throw new CliError(
    named.length > 1
      ? `${named.length} care teams are named ${JSON.stringify(team)}: give the team's id (openiomt care-team list)`
      : `no care team has the id or name ${JSON.stringify(team)}: openiomt care-team list shows them`,
  );
}

export function careTeamCommands(program: Command): void {
  const team = program
    .command('care-team')
    .description("care teams: their members see and act on their patients' data and alarms");

  connectionOptions(team.command('add <name>').description('create a care team, e.g. "Ward 7"')).action(
    async (name, o) =>
      print(await adminRequest(adminConnection(o), 'POST', '/api/v1/admin/care-teams', { name })),
  );

  connectionOptions(
    team.command('list').description('every care team, with how many members and patients'),
  ).action(async (o) => {
    const { items } = await adminRequest<{ items: CareTeam[] }>(
      adminConnection(o),
      'GET',
      '/api/v1/admin/care-teams',
    );
    printTable(
      items.map((t) => ({ id: t.id, name: t.name, members: t.members.length, patients: t.patients.length })),
      ['id', 'name', 'members', 'patients'],
    );
  });

  connectionOptions(
    team.command('show <team>').description('a care team (id or name) with its members and patients'),
  ).action(async (name, o) => {
    const c = adminConnection(o);
    print(await adminRequest(c, 'GET', teamPath(await careTeamIdOf(c, name))));
  });

  const membership = [
    ['add-member', 'member', 'members', true, 'put a clinician or nurse (username or user id) on the team'],
    ['remove-member', 'member', 'members', false, 'take a person (username or user id) off the team'],
    ['add-patient', 'patient', 'patients', true, "put a patient (patient id) in the team's care"],
    ['remove-patient', 'patient', 'patients', false, "take a patient (patient id) out of the team's care"],
  ] as const;
  for (const [command, kind, segment, present, about] of membership)
    connectionOptions(team.command(`${command} <team> <${kind}>`).description(about)).action(
      async (name: string, who: string, o) => {
        const c = adminConnection(o);
        const id = await careTeamIdOf(c, name);
        const memberId = kind === 'member' ? await userIdOf(c, who) : await patientIdOf(c, who);
        print(
          await adminRequest(
            c,
            present ? 'PUT' : 'DELETE',
            `${teamPath(id)}/${segment}/${encodeURIComponent(memberId)}`,
          ),
        );
      },
    );
}

/** A patient id that names a registered patient (a typo would otherwise put nobody in the team's care). */
async function patientIdOf(c: AdminConnection, patient: string): Promise<string> {
  await adminRequest(c, 'GET', `/api/v1/admin/patients/${encodeURIComponent(patient)}`);
  return patient;
}
