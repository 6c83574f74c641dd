/**
 * Secure messages between a patient's side and their care team, as `GET /api/v1/patients/{id}/messages`
 * lists them, and how pages of a conversation merge. Pure; used by the clinician and the patient screens.
 */

export interface Message {
  readonly id: string;
  readonly patientId: string;
  readonly sender: { readonly userId: string; readonly displayName?: string; readonly role: string };
  readonly body: string;
  readonly sentAt: string;
  readonly readAt?: string;
}

export interface MessagePage {
  readonly items: readonly Message[];
  readonly next?: string;
}

/** Both lists as one, oldest first, each message once (the incoming copy wins: it may now be read). */
export function mergeMessages(current: readonly Message[], incoming: readonly Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of current) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => {
    const t = Date.parse(a.sentAt) - Date.parse(b.sentAt);
    return t !== 0 ? t : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
