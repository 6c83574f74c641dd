import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { connectionOptions, listAll, print, printTable } from './admin.ts';
import { adminConnection, adminRequest, CliError } from './admin-client.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `openiomt oauth-client add|list|remove`: the apps and backend services allowed to get OAuth tokens. */
export function oauthCommands(program: Command): void {
  const oauth = program
    .command('oauth-client')
    .description('OAuth 2 / SMART on FHIR clients: register apps and backend services, list, remove');

  connectionOptions(
    oauth
      .command('add <name>')
      .description(
        'register a client; prints its client_id (and, for a confidential client, its secret once)',
      ),
  )
    .requiredOption(
      '--grant <type>',
      'authorization_code, refresh_token or client_credentials (repeat)',
      collect,
    )
    .requiredOption(
      '--scope <scopes>',
      'scopes it may ask for, e.g. "openid fhirUser launch/patient patient/*.read"',
    )
    .option(
      '--redirect-uri <url>',
      'where the authorization code is sent (repeat; authorization_code only)',
      collect,
    )
    .option('--public', 'a public app (no secret; PKCE protects the code)')
    .option('--jwks-file <file>', "a backend service's public keys (JWKS JSON) for private_key_jwt")
    .action(async (name, o) => {
      let jwks: unknown;
      if (o.jwksFile) {
        try {
          jwks = JSON.parse(await readFile(o.jwksFile, 'utf8'));
        } catch (e) {
          throw new CliError(`--jwks-file ${o.jwksFile}: ${(e as Error).message}`);
        }
      }
      print(
        await adminRequest(adminConnection(o), 'POST', '/api/v1/admin/oauth-clients', {
          name,
          grantTypes: o.grant,
          scope: o.scope,
          ...(o.redirectUri ? { redirectUris: o.redirectUri } : {}),
          ...(o.public ? { public: true } : {}),
          ...(jwks !== undefined ? { jwks } : {}),
        }),
      );
      process.stderr.write('A client_secret, if printed above, is shown only this once: keep it now.\n');
    });

  connectionOptions(
    oauth.command('list').description('registered clients, removed ones with their disabledAt'),
  )
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) =>
      printTable(await listAll(adminConnection(o), '/api/v1/admin/oauth-clients', Number(o.limit)), [
        'id',
        'name',
        'grantTypes',
        'authMethod',
        'scope',
        'disabledAt',
      ]),
    );

  connectionOptions(
    oauth.command('remove <clientId>').description('disable a client: its tokens stop working at once'),
  ).action(async (id, o) =>
    print(
      await adminRequest(
        adminConnection(o),
        'DELETE',
        `/api/v1/admin/oauth-clients/${encodeURIComponent(id)}`,
      ),
    ),
  );
}
