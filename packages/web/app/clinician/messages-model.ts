/**
 * Secure messages as the clinician screens use them (`/api/v1/patients/{id}/messages`,
 * `/api/v1/messages/unread`): the list of conversations with unread ones first (merging pages of a
 * conversation is in ../messages.ts). Pure.
 */

export { type Message, type MessagePage, mergeMessages } from '../messages.ts';

export interface UnreadCounts {
  readonly items: readonly { patientId: string; unread: number }[];
}

export interface ConversationEntry {
  readonly patientId: string;
  readonly name: string;
  readonly unread: number;
}

/**
 * One entry per patient of the census and per patient with unread messages (a patient may write before
 * appearing on the census), unread first (most first), then by name; filtered by name or id words.
 */
export function conversationList(
  patients: readonly { patientId: string; displayName?: string }[],
  unread: readonly { patientId: string; unread: number }[],
  filter = '',
): ConversationEntry[] {
  const counts = new Map(unread.map((u) => [u.patientId, u.unread]));
  const names = new Map(patients.map((p) => [p.patientId, p.displayName ?? p.patientId]));
  for (const u of unread) if (!names.has(u.patientId)) names.set(u.patientId, u.patientId);
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return [...names]
    .map(([patientId, name]) => ({ patientId, name, unread: counts.get(patientId) ?? 0 }))
    .filter((e) => words.every((w) => `${e.name} ${e.patientId}`.toLowerCase().includes(w)))
    .sort(
      (a, b) => b.unread - a.unread || a.name.localeCompare(b.name) || a.patientId.localeCompare(b.patientId),
    );
}
