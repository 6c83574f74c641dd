import { ROLES } from '@openiomt/core';
import { type Command, Option } from 'commander';
import { connectionOptions, listAll, print, printTable } from './admin.ts';
import { adminConnection, adminRequest } from './admin-client.ts';

const path = (id: string): string => encodeURIComponent(id);

interface SetupLink {
  setupToken: string;
  setupPath: string;
  setupExpiresAt: string;
}

/** The set-up link, once, on stdout; the advice on stderr so a script can capture just the link. */
function printSetupLink(base: string, link: SetupLink, extra: Record<string, unknown> = {}): void {
  print({ ...extra, setupLink: `${base}${link.setupPath}`, setupExpiresAt: link.setupExpiresAt });
  process.stderr.write(
    'Give the set-up link to the person by a trusted channel: it is shown only once, works once, and expires.\n',
  );
}

/** `openiomt user add|list|show|disable|reset-mfa|setup-link`: accounts for people. */
export function userCommands(program: Command): void {
  const user = program
    .command('user')
    .description(
      'accounts for people (clinicians, nurses, patients, caregivers, administrators, researchers)',
    );

  connectionOptions(
    user
      .command('add <username>')
      .description('create an account; prints its one-time set-up link (no password is ever set for them)'),
  )
    .addOption(new Option('--role <role...>', 'one or more roles').choices([...ROLES]).makeOptionMandatory())
    .option('--patient <id>', "the patient record of a patient's own account (required with --role patient)")
    .option('--display-name <name>', 'name shown to others')
    .action(async (username, o) => {
      const c = adminConnection(o);
      const r = await adminRequest<{ user: Record<string, unknown> } & SetupLink>(
        c,
        'POST',
        '/api/v1/admin/users',
        {
          username,
          roles: o.role,
          patientId: o.patient,
          displayName: o.displayName,
        },
      );
      printSetupLink(c.url, r, { user: r.user });
    });

  connectionOptions(user.command('list').description('accounts, with lockout and second-factor state'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) =>
      printTable(
        (
          await listAll<Record<string, unknown>>(adminConnection(o), '/api/v1/admin/users', Number(o.limit))
        ).map((u) => ({ ...u, roles: (u.roles as string[]).join(',') })),
        [
          'id',
          'username',
          'roles',
          'patientId',
          'passwordSet',
          'totpEnrolledAt',
          'lockedUntil',
          'disabledAt',
        ],
      ),
    );

  connectionOptions(user.command('show <id>').description('one account')).action(async (id, o) =>
    print(await adminRequest(adminConnection(o), 'GET', `/api/v1/admin/users/${path(id)}`)),
  );

  connectionOptions(
    user.command('disable <id>').description('disable an account: it cannot sign in and its sessions end'),
  ).action(async (id, o) =>
    print(await adminRequest(adminConnection(o), 'POST', `/api/v1/admin/users/${path(id)}/disable`, {})),
  );

  connectionOptions(
    user
      .command('reset-mfa <id>')
      .description('remove a lost authenticator: the person enrols a new one at next sign-in; sessions end'),
  ).action(async (id, o) =>
    print(await adminRequest(adminConnection(o), 'POST', `/api/v1/admin/users/${path(id)}/reset-mfa`, {})),
  );

  connectionOptions(
    user
      .command('setup-link <id>')
      .description('a new one-time set-up link (forgotten password); the previous link stops working'),
  ).action(async (id, o) => {
    const c = adminConnection(o);
    printSetupLink(
      c.url,
      await adminRequest<SetupLink>(c, 'POST', `/api/v1/admin/users/${path(id)}/setup-link`, {}),
    );
  });
}
