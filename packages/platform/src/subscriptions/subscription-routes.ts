/**
 * FHIR R4 Subscription: create (requested → active once validated), read, search by status, update of
 * the status (active/off), delete (off), and the R4 websocket channel at /fhir/R4/websocket (`bind <id>`,
 * answered `bound <id>`; then `ping <id>` on every match). A subscription is its owner's: anyone else
 * gets 404, as if it did not exist.
 */
import { isStaff, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import {
  acceptFhirJson,
  answerWithOperationOutcome,
  FHIR_JSON,
  outcome,
  searchset,
} from '../fhir/responses.ts';
import { checkParams } from '../fhir/search-params.ts';
import type { Store } from '../store/types.ts';
import type { SubscriptionMatcher } from './subscription-matcher.ts';
import {
  readSubscription,
  SubscriptionError,
  type SubscriptionRequest,
  subscriptionResource,
} from './subscription-resource.ts';
import type { StoredSubscription, SubscriptionStatus, SubscriptionStore } from './subscription-store.ts';

const STATUSES: readonly SubscriptionStatus[] = ['requested', 'active', 'error', 'off'];
const BIND = /^bind ([0-9a-fA-F-]{36})$/;

export interface SubscriptionRouteDeps {
  readonly store: Store;
  readonly guard: AccessGuard;
  readonly subscriptions: SubscriptionStore;
  readonly matcher: SubscriptionMatcher;
}

const isOwner = (s: StoredSubscription, subject: Subject) =>
  s.owner.kind === subject.kind && s.owner.id === subject.userId;

export function subscriptionRoutes(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  const { store, guard, subscriptions, matcher } = deps;

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    acceptFhirJson(fhir);

    const read = (reply: FastifyReply, body: unknown): SubscriptionRequest | undefined => {
      try {
        return readSubscription(body);
      } catch (e) {
        if (!(e instanceof SubscriptionError)) throw e;
        void outcome(reply, 422, 'invalid', e.message, e.expression);
        return undefined;
      }
    };
    const own = async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const subject = await guard.subject(req);
      const s = await subscriptions.get(req.params.id);
      return { subject, s: s && isOwner(s, subject) ? s : undefined };
    };
    const notFound = (reply: FastifyReply, id: string) =>
      outcome(reply, 404, 'not-found', `Subscription/${id} is not known`);

    fhir.post('/fhir/R4/Subscription', async (req, reply) => {
      const subject = await guard.subject(req);
      const r = read(reply, req.body);
      if (!r) return reply;
      if (r.status === 'off')
        return outcome(reply, 422, 'invalid', 'a new subscription cannot be off', 'Subscription.status');
      const refused = (why: string) => outcome(reply, 403, 'forbidden', why);
      if (subject.roles.includes('researcher') && subject.kind === 'user' && !isStaff(subject.roles))
        return refused('research access is for de-identified searches, not notifications');
      if (subject.kind === 'user' && isStaff(subject.roles) && !subject.mfa)
        return refused('multi-factor authentication is required for staff');
      const ownOnly = subject.kind === 'user' && subject.roles.every((role) => role === 'patient');
      let patientId = r.parsed.patientId;
      if (ownOnly) {
        if (patientId !== undefined && patientId !== subject.patientId)
          return refused('a patient may subscribe to their own data only');
        patientId = subject.patientId;
      }
      // Naming a patient one may not see is refused now; everything else is decided at every delivery.
      if (patientId !== undefined)
        await guard.check(req, { action: 'search', resourceType: 'Observation', patientId });
      const { subscription, secret } = await subscriptions.create({
        owner: {
          kind: subject.kind,
          id: subject.userId,
          roles: subject.roles,
          mfa: subject.mfa,
          ...(subject.patientId ? { patientId: subject.patientId } : {}),
          ...(subject.scopes ? { scopes: subject.scopes } : {}),
        },
        criteria: r.criteria,
        ...(patientId !== undefined ? { patientId } : {}),
        reason: r.reason,
        ...(r.end ? { end: r.end } : {}),
        channelType: r.channelType,
        ...(r.endpoint ? { endpoint: r.endpoint } : {}),
        headers: r.headers,
        ...(r.payload ? { payload: r.payload } : {}),
        content: r.content,
      });
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'create',
          resourceType: 'Subscription',
          resourceId: subscription.id,
          ...(patientId ? { patientId } : {}),
        }),
      );
      await matcher.refresh();
      return reply
        .code(201)
        .header('location', `${req.protocol}://${req.host}/fhir/R4/Subscription/${subscription.id}`)
        .type(FHIR_JSON)
        .send(subscriptionResource(subscription, secret));
    });

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Subscription/:id', async (req, reply) => {
      const { s } = await own(req);
      if (!s) return notFound(reply, req.params.id);
      return reply.type(FHIR_JSON).send(subscriptionResource(s));
    });

    fhir.get('/fhir/R4/Subscription', async (req, reply) => {
      const subject = await guard.subject(req);
      const { one } = checkParams(req.query as Record<string, string>, ['status']);
      const statuses = one.status?.split(',');
      if (statuses?.some((st) => !STATUSES.includes(st as SubscriptionStatus)))
        return outcome(reply, 400, 'invalid', `status must be one of ${STATUSES.join(', ')}`, 'status');
      const found = await subscriptions.ofOwner({ kind: subject.kind, id: subject.userId }, statuses);
      return reply.type(FHIR_JSON).send(
        searchset(
          req,
          'Subscription',
          found.map((s) => subscriptionResource(s)),
          undefined,
        ),
      );
    });

    fhir.put<{ Params: { id: string } }>('/fhir/R4/Subscription/:id', async (req, reply) => {
      const { s } = await own(req);
      if (!s) return notFound(reply, req.params.id);
      const r = read(reply, req.body);
      if (!r) return reply;
      const id = (req.body as { id?: unknown }).id;
      if (id !== undefined && id !== s.id)
        return outcome(
          reply,
          400,
          'invalid',
          'the id in the body must be the one in the URL',
          'Subscription.id',
        );
      const same =
        r.criteria === s.criteria &&
        r.channelType === s.channelType &&
        r.endpoint === s.endpoint &&
        r.payload === s.payload &&
        r.content === s.content &&
        JSON.stringify(r.headers) === JSON.stringify(s.headers);
      if (!same)
        return outcome(
          reply,
          422,
          'invalid',
          'only status may change: create a new Subscription for other criteria or channel',
          'Subscription',
        );
      const updated = await subscriptions.setStatus(s.id, r.status === 'off' ? 'off' : 'active');
      await matcher.refresh();
      return reply.type(FHIR_JSON).send(subscriptionResource(updated));
    });

    fhir.delete<{ Params: { id: string } }>('/fhir/R4/Subscription/:id', async (req, reply) => {
      const { s } = await own(req);
      if (!s) return notFound(reply, req.params.id);
      await subscriptions.setStatus(s.id, 'off');
      await matcher.refresh();
      return reply.code(204).send();
    });
  });

  app.register(async (ws) => {
    const subjects = new WeakMap<object, Subject>();
    // Who is connecting is settled before the upgrade: without a credential the answer is a plain 401.
    ws.addHook('preValidation', async (req) => {
      subjects.set(req, await guard.subject(req));
    });
    ws.get('/fhir/R4/websocket', { websocket: true }, (socket, req) => {
      const subject = subjects.get(req) as Subject;
      socket.on('error', () => socket.terminate());
      socket.on('message', (data) => {
        const text = String(data).trim();
        const m = BIND.exec(text);
        if (!m) {
          socket.send('error use: bind <subscription id>');
          return;
        }
        const id = (m[1] as string).toLowerCase();
        void subscriptions.get(id).then(
          (s) => {
            if (!s || !isOwner(s, subject) || s.channelType !== 'websocket') {
              socket.send(`error ${id} no websocket subscription of yours with this id`);
              return;
            }
            matcher.bind(id, socket);
            socket.send(`bound ${id}`);
          },
          () => socket.send(`error ${id} try again`),
        );
      });
    });
  });
}
