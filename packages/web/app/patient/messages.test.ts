import { describe, expect, it } from 'vitest';
import { checkMessage, type Message, mergeMessages, senderLabel, unreadFromCareTeam } from './messages.ts';

const msg = (id: string, min: number, from = 'nurse-1', extra: Partial<Message> = {}): Message => ({
  id,
  patientId: 'p1',
  sender: { userId: from, role: from === 'me' ? 'patient' : 'nurse' },
  body: `message ${id}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 9, min)).toISOString(),
  ...extra,
});

describe('message thread', () => {
  it('merges pages oldest first, each message once, the newer copy winning', () => {
    const older = [msg('a', 1), msg('b', 2)];
    const newer = [msg('c', 3), msg('b', 2, 'nurse-1', { readAt: '2026-01-01T10:00:00Z' })];
    const merged = mergeMessages(older, newer);
    expect(merged.map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(merged[1]?.readAt).toBe('2026-01-01T10:00:00Z');
    expect(mergeMessages([msg('z', 1), msg('y', 1)], []).map((m) => m.id)).toEqual(['y', 'z']);
  });

  it('marks read only what the care team sent and nobody read', () => {
    const caregiver = msg('d', 4, 'cg-1', { sender: { userId: 'cg-1', role: 'caregiver' } });
    const list = [
      msg('a', 1, 'me'),
      msg('b', 2),
      msg('c', 3, 'nurse-1', { readAt: '2026-01-01T10:00:00Z' }),
      caregiver,
    ];
    expect(unreadFromCareTeam(list).map((m) => m.id)).toEqual(['b']);
  });

  it('names the sender in words', () => {
    expect(senderLabel(msg('a', 1, 'me'), 'me')).toBe('You');
    expect(senderLabel(msg('a', 1), 'me')).toBe('Nurse of the care team');
    const doctor = msg('a', 1, 'u2', { sender: { userId: 'u2', role: 'clinician', displayName: 'Dr Grey' } });
    expect(senderLabel(doctor, 'me')).toBe('Dr Grey, doctor');
  });

  it('refuses an empty or too long message, in words', () => {
    expect(checkMessage('  hello \n')).toEqual({ ok: true, body: 'hello' });
    expect(checkMessage('   ')).toEqual({ ok: false, problem: 'Write a message first.' });
    expect(checkMessage('x'.repeat(4001))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/at most 4000/),
    });
  });
});
