/**
 * Secure messaging between a patient and the people caring for them. The access policy decides, on the
 * resource type Communication: search (list), create (write), read (mark read). That admits the patient in
 * their own compartment, caregivers with a current grant, and clinicians and nurses of the patient's care
 * teams, each subject to the patient's consent for the category 'messages'. Writing and marking read are
 * for people (a service has no place in a conversation). Lists and writes are in the audit log.
 */
import type { Subject } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { notFound } from '../http/problem.ts';
import { type MessageRole, type MessageSide, type StoredMessage, sideOf } from '../store/messages.ts';
import type { Store } from '../store/types.ts';
import { forbidden, unlessErased } from './callers.ts';
import { parseMessageBody, parseMessageQuery } from './input.ts';

/** A message as the API shows it. */
export interface MessageView {
  readonly id: string;
  readonly patientId: string;
  readonly sender: { readonly userId: string; readonly displayName?: string; readonly role: MessageRole };
  readonly body: string;
  readonly sentAt: string;
  readonly readAt?: string;
}

type Params = { Params: { id: string } };

export function messageRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;

  /** Messages with their senders' display names (looked up once per sender). */
  async function present(messages: readonly StoredMessage[]): Promise<MessageView[]> {
    const names = new Map<string, string | undefined>();
    for (const id of new Set(messages.map((m) => m.senderUserId)))
      names.set(id, (await store.users.get(id))?.displayName);
    return messages.map((m) => {
      const displayName = names.get(m.senderUserId);
      return {
        id: m.id,
        patientId: m.patientId,
        sender: { userId: m.senderUserId, ...(displayName ? { displayName } : {}), role: m.senderRole },
        body: m.body,
        sentAt: m.sentAt,
        ...(m.readAt ? { readAt: m.readAt } : {}),
      };
    });
  }

  /**
   * The relationship a person acts in for this patient: their own compartment, else the first of their
   * roles the policy allows the action for (undefined: none).
   */
  async function roleOf(
    subject: Subject,
    patientId: string,
    action: 'create' | 'read' | 'search',
  ): Promise<MessageRole | undefined> {
    if (subject.roles.includes('patient') && subject.patientId === patientId) return 'patient';
    for (const role of ['clinician', 'nurse', 'caregiver'] as const) {
      if (!subject.roles.includes(role)) continue;
      const d = await guard.decide(
        { ...subject, roles: [role] },
        { action, resourceType: 'Communication', patientId },
      );
      if (d.allow) return role;
    }
    return undefined;
  }

  const person = (s: Subject, what: string): void => {
    if (s.kind !== 'user') throw forbidden(`secure messages are ${what} by people, not services`);
  };

  app.get<Params>('/api/v1/patients/:id/messages', async (req) => {
    const patientId = req.params.id;
    const subject = await guard.check(req, { action: 'search', resourceType: 'Communication', patientId });
    const q = parseMessageQuery(req.query);
    const page = await unlessErased(() => store.messages.list({ patientId, ...q }));
    const items = await present(page.items);
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'search',
        resourceType: 'Communication',
        patientId,
        detail: { kind: 'secure-message', count: items.length },
      }),
    );
    return { items, ...(page.next ? { next: page.next } : {}) };
  });

  app.post<Params>('/api/v1/patients/:id/messages', async (req, reply) => {
    const patientId = req.params.id;
    const subject = await guard.check(req, { action: 'create', resourceType: 'Communication', patientId });
    person(subject, 'written');
    const body = parseMessageBody(req.body);
    const senderRole = await roleOf(subject, patientId, 'create');
    if (!senderRole) throw forbidden('no relationship to this patient lets you write to them');
    const message = await unlessErased(() =>
      store.messages.send({ patientId, senderUserId: subject.userId, senderRole, body }),
    );
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'create',
        resourceType: 'Communication',
        resourceId: message.id,
        patientId,
        detail: { kind: 'secure-message' },
      }),
    );
    const [view] = await present([message]);
    return reply.code(201).send(view);
  });

  app.post<{ Params: { id: string; messageId: string } }>(
    '/api/v1/patients/:id/messages/:messageId/read',
    async (req, reply) => {
      const patientId = req.params.id;
      const subject = await guard.check(req, { action: 'read', resourceType: 'Communication', patientId });
      person(subject, 'read');
      const role = await roleOf(subject, patientId, 'read');
      if (!role) throw forbidden('no relationship to this patient lets you read their messages');
      const found = await unlessErased(() =>
        store.messages.markRead(patientId, req.params.messageId, sideOf(role)),
      );
      if (!found) throw notFound(`no message ${req.params.messageId} of this patient`);
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'update',
          resourceType: 'Communication',
          resourceId: req.params.messageId,
          patientId,
          detail: { kind: 'secure-message', change: 'read' },
        }),
      );
      return reply.code(204).send();
    },
  );

  /**
   * The inbox badge: per patient the caller may search messages of, the messages from the other side of
   * the conversation not read yet (a service: every unread message). Counts only, no content: not
   * recorded in the audit log (a badge polls).
   */
  app.get('/api/v1/messages/unread', async (req) => {
    const subject = await guard.subject(req);
    const visible = await guard.patientsVisibleTo(subject);
    if (visible === 'all') {
      await guard.check(req, { action: 'search', resourceType: 'Communication' });
      return { items: await store.messages.unreadCounts('any', 'all') };
    }
    const bySide: Record<MessageSide, string[]> = { patient: [], care: [] };
    for (const patientId of visible) {
      const role = await roleOf(subject, patientId, 'search');
      if (role) bySide[sideOf(role)].push(patientId);
    }
    const counts = [
      ...(await store.messages.unreadCounts('patient', bySide.patient)),
      ...(await store.messages.unreadCounts('care', bySide.care)),
    ];
    return {
      items: counts.sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0)),
    };
  });
}
