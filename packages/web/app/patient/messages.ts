/**
 * The message thread between a patient (or their caregiver) and the care team: pages from the platform
 * merged into one list in time order, who wrote each message in words, and which ones to mark read.
 */

import type { Message } from '../messages.ts';

export { type Message, type MessagePage, mergeMessages } from '../messages.ts';

export const MAX_MESSAGE_LENGTH = 4000;

/** The care team writes as a clinician or nurse; the patient and their caregivers are the other side. */
export const fromCareTeam = (m: Message): boolean =>
  m.sender.role === 'clinician' || m.sender.role === 'nurse';

/**
 * Messages from the care team not marked read yet: the patient's side marks them read (the platform keeps
 * one read mark per side, so the patient's or a caregiver's own messages are the care team's to mark).
 */
export function unreadFromCareTeam(messages: readonly Message[]): Message[] {
  return messages.filter((m) => fromCareTeam(m) && m.readAt === undefined);
}

const ROLE_TEXT: Record<string, string> = {
  patient: 'patient',
  caregiver: 'caregiver',
  clinician: 'doctor',
  nurse: 'nurse',
};

/** "You", or the sender's name and role ("Dr Grey, doctor"), or the role alone when there is no name. */
export function senderLabel(m: Message, myUserId: string): string {
  if (m.sender.userId === myUserId) return 'You';
  const role = ROLE_TEXT[m.sender.role] ?? m.sender.role;
  if (m.sender.displayName) return `${m.sender.displayName}, ${role}`;
  return `${role.charAt(0).toUpperCase()}${role.slice(1)} of the care team`;
}

/** A message body fit to send: trimmed, not empty, not too long; the problem in words otherwise. */
export function checkMessage(body: string): { ok: true; body: string } | { ok: false; problem: string } {
  const text = body.trim();
  if (text.length === 0) return { ok: false, problem: 'Write a message first.' };
  if (text.length > MAX_MESSAGE_LENGTH)
    return {
      ok: false,
      problem: `A message can be at most ${MAX_MESSAGE_LENGTH} characters (this one has ${text.length}).`,
    };
  return { ok: true, body: text };
}
