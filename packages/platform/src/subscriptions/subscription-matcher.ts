/**
 * Matches stored readings (and derived measurements) against the active FHIR Subscriptions and delivers
 * the matches. Off the ingest path: the bus handler only looks at the index codes it is handed (no FHIR is
 * made unless some active subscription could match) and queues the event; a single worker maps, evaluates
 * the criteria and delivers. The queue is bounded: when ingest outpaces matching, events are dropped,
 * counted, and the subscriptions that missed them are put in `error` with the count, so an owner is never
 * silently told less than they asked for.
 *
 * Every match is decided again for the owner at that moment with the access policy (care team, consent,
 * caregiver grants, scopes): a subscription only ever delivers what its owner may read now. rest-hook
 * deliveries are checked once more when they are sent (retries can come much later).
 */
import { randomUUID } from 'node:crypto';
import {
  type DataCategory,
  DERIVED_CODES,
  dataCategoryOf,
  mapObservations,
  matchesCriteria,
  type ObservationToMatch,
  parseSubscriptionCriteria,
  type Subject,
  type SubscriptionCriteria,
} from '@openiomt/core';
import type { WebSocket } from 'ws';
import type { AccessGuard } from '../access/guard.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { roleOf, subjectPatient } from '../audit/http-events.ts';
import type {
  DerivedMeasurementEvent,
  InProcessBus,
  ObservationEnteredEvent,
  StoredReadingEvent,
} from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { Outbox } from '../notify/webhook-deliverer.ts';
import { withLastUpdated } from '../store/fhir-view.ts';
import type { Store } from '../store/types.ts';
import { notificationBundle } from './notification.ts';
import type {
  ClaimedNotification,
  StoredSubscription,
  SubscriptionOwner,
  SubscriptionStore,
} from './subscription-store.ts';

interface Active {
  readonly sub: StoredSubscription;
  readonly criteria: SubscriptionCriteria;
}

type Job =
  | { readonly kind: 'reading'; readonly event: StoredReadingEvent; readonly candidates: Active[] }
  | { readonly kind: 'derived'; readonly event: DerivedMeasurementEvent; readonly candidates: Active[] }
  | { readonly kind: 'entered'; readonly event: ObservationEnteredEvent; readonly candidates: Active[] };

type Observation = Record<string, unknown> & { id?: unknown };

/** Above this many unsent bytes a websocket client is too slow and is closed. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const WITHHELD = 'withheld: the owner may no longer read this data';

export interface SubscriptionMatcherOptions {
  readonly store: Store;
  readonly bus: InProcessBus;
  readonly guard: AccessGuard;
  readonly subscriptions: SubscriptionStore;
  /** Tells the rest-hook deliverer that something was enqueued. */
  readonly wake: () => void;
  readonly log?: Logger;
  /** Events waiting to be matched before new ones are dropped (default 1000). */
  readonly maxQueue?: number;
  /** How often the active set is re-read, for subscriptions other processes changed (default 10 s). */
  readonly refreshMs?: number;
}

export class SubscriptionMatcher {
  private active: Active[] = [];
  private readonly queue: Job[] = [];
  private draining: Promise<void> | undefined;
  private readonly dropped = new Map<string, number>();
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxQueue: number;

  constructor(private readonly o: SubscriptionMatcherOptions) {
    this.maxQueue = o.maxQueue ?? 1000;
  }

  async start(): Promise<this> {
    await this.refresh();
    this.unsubscribe.push(
      this.o.bus.subscribe('reading.stored', (e) => this.onReading(e)),
      this.o.bus.subscribe('analysis.derived', (e) => this.onDerived(e)),
      this.o.bus.subscribe('observation.entered', (e) => this.onEntered(e)),
    );
    this.timer = setInterval(() => void this.refresh().catch(() => {}), this.o.refreshMs ?? 10_000);
    this.timer.unref();
    return this;
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    clearInterval(this.timer);
    await this.draining;
    for (const set of this.sockets.values()) for (const s of set) s.close(1001, 'server shutting down');
  }

  /** Re-reads the active subscriptions (after one is created, changed or removed). */
  async refresh(): Promise<void> {
    const subs = await this.o.subscriptions.active();
    const active: Active[] = [];
    for (const sub of subs) {
      const parsed = parseSubscriptionCriteria(sub.criteria);
      if (parsed.ok) active.push({ sub, criteria: parsed.criteria });
    }
    this.active = active;
  }

  /** Events waiting to be matched, and those dropped per subscription (diagnostics, tests). */
  get backlog(): number {
    return this.queue.length;
  }

  /** Waits until every queued event has been matched (tests). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  bind(subscriptionId: string, socket: WebSocket): void {
    let set = this.sockets.get(subscriptionId);
    if (!set) {
      set = new Set();
      this.sockets.set(subscriptionId, set);
    }
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0) this.sockets.delete(subscriptionId);
    });
  }

  /** The outbox the rest-hook deliverer sends: each claimed delivery is checked for its owner now. */
  outbox(): Outbox {
    const subs = this.o.subscriptions;
    return {
      claimDue: async (now, leaseUntil, limit) => {
        const out: ClaimedNotification[] = [];
        for (const c of await subs.claimDue(now, leaseUntil, limit)) {
          if (await this.mayRead(c.owner, c.patientId, c.category)) out.push(c);
          else await subs.recordAttempt(c, { status: 'dead', error: WITHHELD }, now);
        }
        return out;
      },
      recordAttempt: (c, outcome, at) => subs.recordAttempt(c, outcome, at),
      nextDueAt: () => subs.nextDueAt(),
    };
  }

  private candidates(patientId: string, codes: readonly string[]): Active[] {
    const now = Date.now();
    return this.active.filter(
      ({ sub, criteria }) =>
        (sub.patientId === undefined || sub.patientId === patientId) &&
        (sub.end === undefined || Date.parse(sub.end) > now) &&
        codes.some((c) => criteria.codes.includes(c)),
    );
  }

  private onReading(e: StoredReadingEvent): void {
    if (this.active.length === 0) return;
    const candidates = this.candidates(
      e.patientId,
      e.observations.map((o) => o.code),
    );
    if (candidates.length > 0) this.push({ kind: 'reading', event: e, candidates });
  }

  private onDerived(e: DerivedMeasurementEvent): void {
    if (this.active.length === 0) return;
    const candidates = this.candidates(e.patientId, DERIVED_CODES);
    if (candidates.length > 0) this.push({ kind: 'derived', event: e, candidates });
  }

  private onEntered(e: ObservationEnteredEvent): void {
    if (this.active.length === 0) return;
    const candidates = this.candidates(e.patientId, [e.code]);
    if (candidates.length > 0) this.push({ kind: 'entered', event: e, candidates });
  }

  private push(job: Job): void {
    if (this.queue.length >= this.maxQueue) {
      for (const { sub } of job.candidates) this.dropped.set(sub.id, (this.dropped.get(sub.id) ?? 0) + 1);
      this.draining ??= this.drain();
      return;
    }
    this.queue.push(job);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        await this.reportDropped();
        const job = this.queue.shift();
        if (!job) break;
        try {
          await this.process(job);
        } catch (err) {
          this.o.log?.error({ err }, 'subscriptions: matching an event failed');
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** Subscriptions that missed events go to `error`, with how many they missed. */
  private async reportDropped(): Promise<void> {
    if (this.dropped.size === 0) return;
    const dropped = [...this.dropped];
    this.dropped.clear();
    for (const [id, n] of dropped) {
      await this.o.subscriptions.setStatus(
        id,
        'error',
        `${n} notification(s) dropped: matching could not keep up with ingest; set status to active to resume`,
      );
      this.o.log?.warn({ subscriptionId: id, dropped: n }, 'subscription put in error: events dropped');
    }
    const ids = new Set(dropped.map(([id]) => id));
    this.active = this.active.filter((a) => !ids.has(a.sub.id));
  }

  private async process(job: Job): Promise<void> {
    const patientId = job.event.patientId;
    const observations = await this.observationsOf(job);
    for (const { sub, criteria } of job.candidates) {
      for (const o of observations) {
        if (subjectPatient(o) !== patientId || !matchesCriteria(criteria, o as ObservationToMatch)) continue;
        const category = dataCategoryOf(o as ObservationToMatch);
        if (!(await this.mayRead(sub.owner, patientId, category))) continue;
        await this.deliver(sub, o, patientId, category);
      }
    }
  }

  /** The Observations an event stands for, as stored (those of a reading only in the codes wanted). */
  private async observationsOf(job: Job): Promise<Observation[]> {
    if (job.kind === 'entered') return [job.event.resource as Observation];
    if (job.kind === 'reading')
      return mapObservations(job.event.message, job.event.patientId)
        .filter((o) => job.candidates.some((c) => c.criteria.codes.includes(o.code)))
        .map(
          // As the FHIR API serves it: last updated when its reading was received.
          (o) =>
            withLastUpdated(
              o.resource as unknown as Record<string, unknown>,
              job.event.receivedAt,
            ) as Observation,
        );
    const found = await Promise.all(
      job.event.observationIds.map((id) => this.o.store.derivedObservations.get(id)),
    );
    return found.filter((o): o is Observation => o !== undefined);
  }

  /** The owner as a Subject now: a user is read again (roles, patient, disabled); undefined if gone. */
  private async ownerSubject(owner: SubscriptionOwner): Promise<Subject | undefined> {
    if (owner.kind === 'service')
      return { kind: 'service', userId: owner.id, roles: [], mfa: true, scopes: owner.scopes ?? [] };
    const user = await this.o.store.users.get(owner.id);
    if (!user || user.disabledAt !== undefined) return undefined;
    return {
      kind: 'user',
      userId: user.id,
      roles: user.roles,
      mfa: owner.mfa,
      ...(user.patientId ? { patientId: user.patientId } : {}),
      ...(owner.scopes ? { scopes: owner.scopes } : {}),
    };
  }

  private async mayRead(owner: SubscriptionOwner, patientId: string, category: DataCategory) {
    const subject = await this.ownerSubject(owner);
    if (!subject || subject.roles.includes('researcher')) return false;
    const d = await this.o.guard.decide(subject, {
      action: 'read',
      resourceType: 'Observation',
      patientId,
      category,
    });
    return d.allow;
  }

  private async deliver(sub: StoredSubscription, o: Observation, patientId: string, category: DataCategory) {
    const { store, subscriptions } = this.o;
    const eventId = randomUUID();
    const at = new Date().toISOString();
    const audit = {
      action: 'read' as const,
      actor: sub.owner.id,
      actorRole: roleOf(sub.owner),
      resourceType: 'Observation',
      resourceId: String(o.id),
      patientId,
      source: 'subscription',
      detail: { subscription: sub.id, channel: sub.channelType, event: eventId },
    };
    const body = (n: number) =>
      notificationBundle({
        eventId,
        subscriptionId: sub.id,
        eventNumber: n,
        at,
        content: sub.content,
        observation: o,
      });
    if (sub.channelType === 'rest-hook') {
      const enqueued = await store.db.transaction(async (tx) => {
        const n = await subscriptions.countEvent(tx, sub.id);
        if (n === undefined) return false;
        await subscriptions.enqueue(tx, {
          subscriptionId: sub.id,
          eventId,
          patientId,
          category,
          body: JSON.stringify(body(n)),
        });
        await recordAudit(tx, audit);
        return true;
      });
      if (enqueued) this.o.wake();
      return;
    }
    const sockets = this.sockets.get(sub.id);
    const n = await subscriptions.countEvent(store.db, sub.id);
    if (n === undefined || !sockets || sockets.size === 0) return;
    // R4 websocket channel: `ping <id>`; with a payload, the notification Bundle follows as its own frame.
    const frames = [`ping ${sub.id}`, ...(sub.payload ? [JSON.stringify(body(n))] : [])];
    if (sub.payload) await store.audit.record(audit);
    for (const socket of sockets) for (const f of frames) send(socket, f);
  }
}

function send(socket: WebSocket, text: string): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
    socket.close(1013, 'too slow');
    return;
  }
  socket.send(text);
}
