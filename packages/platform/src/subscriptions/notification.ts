/**
 * The notification a matching Observation causes, in the shape of the FHIR Subscriptions R5 Backport IG
 * for R4: a `history` Bundle whose first entry is the SubscriptionStatus (a Parameters resource with the
 * backport-subscription-status-r4 profile) and, by the subscription's payload content, the Observation
 * itself (full-resource), its reference only (id-only), or nothing more (empty). Pure.
 */
import type { PayloadContent } from './subscription-store.ts';

const STATUS_PROFILE =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4';

export interface NotificationInput {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly eventNumber: number;
  readonly at: string;
  readonly content: PayloadContent;
  readonly observation: Record<string, unknown> & { id?: unknown };
}

export function notificationBundle(n: NotificationInput): Record<string, unknown> {
  const focus = `Observation/${String(n.observation.id)}`;
  const status = {
    resourceType: 'Parameters',
    id: n.eventId,
    meta: { profile: [STATUS_PROFILE] },
    parameter: [
      { name: 'subscription', valueReference: { reference: `Subscription/${n.subscriptionId}` } },
      { name: 'status', valueCode: 'active' },
      { name: 'type', valueCode: 'event-notification' },
      { name: 'events-since-subscription-start', valueString: String(n.eventNumber) },
      {
        name: 'notification-event',
        part: [
          { name: 'event-number', valueString: String(n.eventNumber) },
          { name: 'timestamp', valueInstant: n.at },
          ...(n.content === 'empty' ? [] : [{ name: 'focus', valueReference: { reference: focus } }]),
        ],
      },
    ],
  };
  return {
    resourceType: 'Bundle',
    id: n.eventId,
    type: 'history',
    timestamp: n.at,
    entry: [
      {
        fullUrl: `urn:uuid:${n.eventId}`,
        resource: status,
        request: { method: 'GET', url: `Subscription/${n.subscriptionId}/$status` },
        response: { status: '200' },
      },
      ...(n.content === 'empty'
        ? []
        : [
            {
              fullUrl: focus,
              ...(n.content === 'full-resource' ? { resource: n.observation } : {}),
              request: { method: 'POST', url: 'Observation' },
              response: { status: '201' },
            },
          ]),
    ],
  };
}
