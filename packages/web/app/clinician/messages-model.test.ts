import { describe, expect, it } from 'vitest';
import { conversationList, type Message, mergeMessages } from './messages-model.ts';

const msg = (id: string, sentAt: string, over: Partial<Message> = {}): Message => ({
  id,
  patientId: 'p1',
  sender: { userId: 'u1', role: 'patient' },
  body: id,
  sentAt,
  ...over,
});

describe('conversation pages', () => {
  it('merges pages oldest first, each message once, the later copy winning', () => {
    const newest = [msg('c', '2025-03-01T10:02:00Z'), msg('b', '2025-03-01T10:01:00Z')];
    const older = [msg('b', '2025-03-01T10:01:00Z'), msg('a', '2025-03-01T10:00:00Z')];
    expect(mergeMessages(older, newest).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    const read = msg('c', '2025-03-01T10:02:00Z', { readAt: '2025-03-01T10:05:00Z' });
    expect(mergeMessages(newest, [read]).find((m) => m.id === 'c')?.readAt).toBe('2025-03-01T10:05:00Z');
  });
});

describe('conversation list', () => {
  const patients = [
    { patientId: 'p1', displayName: 'Zoe Quiet' },
    { patientId: 'p2', displayName: 'Ada Lovelace' },
    { patientId: 'p3' },
  ];

  it('puts unread first, then by name, and adds patients who wrote but are not on the census', () => {
    const list = conversationList(patients, [
      { patientId: 'p1', unread: 2 },
      { patientId: 'p9', unread: 1 },
    ]);
    expect(list).toEqual([
      { patientId: 'p1', name: 'Zoe Quiet', unread: 2 },
      { patientId: 'p9', name: 'p9', unread: 1 },
      { patientId: 'p2', name: 'Ada Lovelace', unread: 0 },
      { patientId: 'p3', name: 'p3', unread: 0 },
    ]);
  });

  it('filters by name or id', () => {
    expect(conversationList(patients, [], 'ada').map((e) => e.patientId)).toEqual(['p2']);
    expect(conversationList(patients, [], 'P3').map((e) => e.patientId)).toEqual(['p3']);
  });
});
