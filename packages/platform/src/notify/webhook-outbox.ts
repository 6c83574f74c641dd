/**
 * The webhook outbox: the alarm service calls enqueueWebhookDeliveries inside the transaction that records
 * an alarm transition, so a delivery is durable exactly when the transition is (nothing is sent for a
 * transition that rolled back, nothing is lost for one that committed). The WebhookDeliverer sends later.
 */
import type { Queryable } from '../store/types.ts';
import { enqueueDeliveries } from '../store/webhooks.ts';

export interface WebhookEvent {
  /** uuid: the notification id; deliveries are unique per (webhook, event), so enqueueing twice is harmless. */
  readonly id: string;
  /** alarm.notification: an alarm told its recipients; break-glass.opened: emergency access (privacy officer). */
  readonly type: 'alarm.notification' | 'break-glass.opened';
  readonly patientId: string;
  /** ISO instant of the notification. */
  readonly at: string;
  /** JSON-serialisable: the notification and the alarm. */
  readonly data: unknown;
}

/** The body every subscriber receives for an event (docs/webhooks.md); serialised once, stored, signed. */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    patientId: event.patientId,
    at: event.at,
    data: event.data,
  });
}

/** Inserts one pending delivery per enabled webhook that matches the event's patient (or has no patient filter), in the caller's transaction. */
export async function enqueueWebhookDeliveries(
  tx: Queryable,
  event: WebhookEvent,
  now: Date,
): Promise<number> {
  return enqueueDeliveries(tx, {
    eventId: event.id,
    patientId: event.patientId,
    body: webhookBody(event),
    now: now.toISOString(),
  });
}
