import type { Command } from 'commander';
import { connectionOptions, listAll, print, printTable } from './admin.ts';
import { adminConnection, adminRequest } from './admin-client.ts';

const path = (id: string): string => encodeURIComponent(id);

/** `openiomt webhook add|list|remove|deliveries|retry`: alarm webhooks for integrators. */
export function webhookCommands(program: Command): void {
  const webhook = program
    .command('webhook')
    .description(
      'signed alarm webhooks for integrators: subscribe, list, remove, inspect and retry deliveries',
    );

  connectionOptions(
    webhook
      .command('add <url>')
      .description('subscribe a URL (https, or http to a loopback host); prints its signing secret once'),
  )
    .option('--patient <id>', "only this patient's alarms (default: every patient)")
    .option('--description <text>', 'what the webhook is for')
    .action(async (url, o) => {
      print(
        await adminRequest(adminConnection(o), 'POST', '/api/v1/admin/webhooks', {
          url,
          patientId: o.patient,
          description: o.description,
        }),
      );
      process.stderr.write(
        'Keep the secret now: it is shown only once and the receiver needs it to verify signatures.\n',
      );
    });

  connectionOptions(webhook.command('list').description('webhooks, removed ones with their disabledAt'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) =>
      printTable(await listAll(adminConnection(o), '/api/v1/admin/webhooks', Number(o.limit)), [
        'id',
        'url',
        'patientId',
        'description',
        'createdAt',
        'disabledAt',
      ]),
    );

  connectionOptions(
    webhook
      .command('remove <id>')
      .description('disable a webhook: nothing more is sent; its pending deliveries become dead'),
  ).action(async (id, o) =>
    print(await adminRequest(adminConnection(o), 'DELETE', `/api/v1/admin/webhooks/${path(id)}`)),
  );

  connectionOptions(
    webhook
      .command('deliveries <id>')
      .description("a webhook's deliveries, newest first, with their last failed attempt's error"),
  )
    .option('--status <status>', 'pending, delivered or dead')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (id, o) => {
      const q = new URLSearchParams(o.status ? { status: o.status } : {});
      const rows = await listAll<Record<string, unknown>>(
        adminConnection(o),
        `/api/v1/admin/webhooks/${path(id)}/deliveries?${q}`,
        Number(o.limit),
      );
      // A delivery that got through after failing keeps its last failure: said as the past it is.
      printTable(
        rows.map((r) => ({
          ...r,
          lastFailure:
            r.lastError === undefined
              ? ''
              : r.status === 'delivered'
                ? `before delivery: ${r.lastError}`
                : r.lastError,
        })),
        ['id', 'eventId', 'status', 'attempts', 'nextAttemptAt', 'lastFailure'],
      );
    });

  connectionOptions(
    webhook
      .command('retry <deliveryId>')
      .description('send a dead delivery again, with a fresh set of attempts'),
  ).action(async (id, o) =>
    print(
      await adminRequest(
        adminConnection(o),
        'POST',
        `/api/v1/admin/webhook-deliveries/${path(id)}/retry`,
        {},
      ),
    ),
  );
}
