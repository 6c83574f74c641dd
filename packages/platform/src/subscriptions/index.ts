/**
 * FHIR R4 Subscriptions wired together: the store, the matcher on the bus, the rest-hook deliverer (the
 * webhook deliverer over the subscription outbox, access-checked as it claims) and the routes.
 */
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import type { InProcessBus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { WebhookDeliverer, type WebhookDelivererOptions } from '../notify/webhook-deliverer.ts';
import type { Store } from '../store/types.ts';
import { SubscriptionMatcher } from './subscription-matcher.ts';
import { subscriptionRoutes } from './subscription-routes.ts';
import { subscriptionStore } from './subscription-store.ts';

export async function startSubscriptions(deps: {
  http: FastifyInstance;
  store: Store;
  bus: InProcessBus;
  guard: AccessGuard;
  log?: Logger;
  delivery?: Omit<WebhookDelivererOptions, 'outbox' | 'logger'>;
}) {
  const subscriptions = subscriptionStore(deps.store.db, deps.store.keys);
  let deliverer: WebhookDeliverer | undefined;
  const matcher = await new SubscriptionMatcher({
    store: deps.store,
    bus: deps.bus,
    guard: deps.guard,
    subscriptions,
    wake: () => deliverer?.wake(),
    ...(deps.log ? { log: deps.log } : {}),
  }).start();
  deliverer = new WebhookDeliverer(deps.store, {
    ...deps.delivery,
    ...(deps.log ? { logger: deps.log } : {}),
    outbox: matcher.outbox(),
  });
  subscriptionRoutes(deps.http, { store: deps.store, guard: deps.guard, subscriptions, matcher });
  const d = deliverer;
  return {
    matcher,
    subscriptions,
    /** Starts sending rest-hook notifications (once the platform listens). */
    start: () => d.start(),
    async close() {
      await matcher.close();
      await d.close();
    },
  };
}
