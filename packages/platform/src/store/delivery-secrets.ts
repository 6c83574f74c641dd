/**
 * Start-up step after migration 016: the webhook and rest-hook signing secrets and rest-hook headers that an
 * older version wrote in clear are sealed into `secret_sealed` / `headers_sealed` (identity/secret-sealer.ts,
 * deliverySecretSealer) and the clear columns set to NULL, all in one transaction; then the two tables are
 * rewritten so their files no longer hold the clear values in dead row versions. Idempotent: once done, it
 * finds nothing to do. SQL alone could not do it: sealing needs the master key.
 */
import { deliverySecretSealer } from '../identity/secret-sealer.ts';
import { type KeyService, MasterKeyError } from '../security/keys/key-service.ts';
import type { Database } from './types.ts';

/** Seals what is left in clear; returns how many values (secrets, header lists) it sealed. */
export async function sealClearDeliverySecrets(db: Database, keys: KeyService | undefined): Promise<number> {
  const sealer = keys && deliverySecretSealer(keys);
  const sealed = await db.transaction(async (tx) => {
    const { rows: hooks } = await tx.query<{ id: string; secret: string }>(
      'SELECT id, secret FROM webhooks WHERE secret IS NOT NULL ORDER BY id FOR UPDATE',
    );
    const { rows: subs } = await tx.query<{ id: string; secret: string | null; headers: string[] | null }>(
      `SELECT id, secret, headers FROM fhir_subscriptions WHERE secret IS NOT NULL OR headers IS NOT NULL
        ORDER BY id FOR UPDATE`,
    );
    const clear = hooks.length + subs.filter((s) => s.secret !== null || (s.headers ?? []).length > 0).length;
    if (clear > 0 && !sealer)
      throw new MasterKeyError(
        `${clear} webhooks and FHIR Subscriptions hold signing secrets or headers in clear and no key service is configured to seal them`,
      );
    let n = 0;
    for (const h of hooks) {
      await tx.query('UPDATE webhooks SET secret_sealed = $2, secret = NULL WHERE id = $1', [
        h.id,
        await sealer?.seal('webhook-secret', h.id, h.secret),
      ]);
      n++;
    }
    for (const s of subs) {
      const headers = s.headers ?? [];
      // An empty list (every websocket channel) has nothing to hide: it becomes NULL, as new rows have it.
      const headersSealed =
        headers.length > 0 ? await sealer?.seal('subscription-headers', s.id, JSON.stringify(headers)) : null;
      const secretSealed =
        s.secret !== null ? await sealer?.seal('subscription-secret', s.id, s.secret) : null;
      await tx.query(
        `UPDATE fhir_subscriptions
            SET secret_sealed = COALESCE($2, secret_sealed), headers_sealed = COALESCE($3, headers_sealed),
                secret = NULL, headers = NULL
          WHERE id = $1`,
        [s.id, secretSealed ?? null, headersSealed ?? null],
      );
      n += (secretSealed ? 1 : 0) + (headersSealed ? 1 : 0);
    }
    return n;
  });
  // The clear values linger in dead row versions: rewrite the tables so their files no longer hold them.
  if (sealed > 0) {
    await db.query('VACUUM FULL webhooks');
    await db.query('VACUUM FULL fhir_subscriptions');
  }
  return sealed;
}
