import { describe, expect, it } from 'vitest';
import {
  type Alarm,
  byInboxOrder,
  conditionText,
  countByPatient,
  foldAlarmMessage,
  loudestPriority,
  needsResponse,
  snoozeChoices,
} from './alarms-model.ts';

const NOW = 1_740_000_000_000;

const alarm = (id: string, over: Partial<Alarm> = {}): Alarm => ({
  id,
  patientId: 'p1',
  condition: 'threshold:spo2:low',
  category: 'physiological',
  priority: 'medium',
  state: 'active',
  raisedAt: NOW - 60_000,
  updatedAt: NOW - 60_000,
  conditionPresent: true,
  escalationLevel: 0,
  ...over,
});

const change = (a: Alarm) => ({ type: 'alarm' as const, alarm: a, transitions: [], notifications: [] });

describe('folding the alarm stream', () => {
  it('replaces everything with a snapshot and announces nothing', () => {
    const r = foldAlarmMessage(new Map([['old', alarm('old')]]), {
      type: 'snapshot',
      alarms: [alarm('a1'), alarm('a2', { state: 'resolved' })],
    });
    expect([...r.open.keys()]).toEqual(['a1']);
    expect(r.news).toEqual([]);
  });

  it('announces a new alarm, one back to active and a priority upgrade', () => {
    const start = new Map<string, Alarm>();
    const raised = foldAlarmMessage(start, change(alarm('a1', { priority: 'high' })));
    expect(raised.news.map((n) => n.news)).toEqual(['raised']);
    const acked = foldAlarmMessage(
      raised.open,
      change(alarm('a1', { priority: 'high', state: 'acknowledged', updatedAt: NOW })),
    );
    expect(acked.news).toEqual([]);
    const back = foldAlarmMessage(acked.open, change(alarm('a1', { priority: 'high', updatedAt: NOW + 1 })));
    expect(back.news.map((n) => n.news)).toEqual(['reactivated']);
    const medium = foldAlarmMessage(
      new Map([['n', alarm('n', { condition: 'news2' })]]),
      change(
        alarm('n', {
          condition: 'news2',
          priority: 'high',
          updatedAt: NOW,
        }),
      ),
    );
    expect(medium.news.map((n) => n.news)).toEqual(['upgraded']);
  });

  it('drops a resolved alarm and ignores a change older than the one held', () => {
    const held = new Map([['a1', alarm('a1', { updatedAt: NOW })]]);
    expect(
      foldAlarmMessage(held, change(alarm('a1', { state: 'resolved', updatedAt: NOW + 5 }))).open.size,
    ).toBe(0);
    const stale = foldAlarmMessage(held, change(alarm('a1', { state: 'resolved', updatedAt: NOW - 5 })));
    expect(stale.open).toBe(held);
  });
});

describe('inbox order and counts', () => {
  it('puts high first, what needs a response before what is handled, then newest', () => {
    const list = [
      alarm('low', { priority: 'low', raisedAt: NOW }),
      alarm('med-old', { raisedAt: NOW - 10_000 }),
      alarm('med-new', { raisedAt: NOW }),
      alarm('med-acked', { state: 'acknowledged', raisedAt: NOW + 1 }),
      alarm('med-snoozed', { snoozedUntil: NOW + 60_000, raisedAt: NOW + 2 }),
      alarm('high', { priority: 'high', state: 'acknowledged', raisedAt: NOW - 99_000 }),
    ];
    expect(list.sort(byInboxOrder(NOW)).map((a) => a.id)).toEqual([
      'high',
      'med-new',
      'med-old',
      'med-snoozed',
      'med-acked',
      'low',
    ]);
  });

  it('needs a response only while active and not snoozed; the loudest is the highest such', () => {
    expect(needsResponse(alarm('a', { snoozedUntil: NOW - 1 }), NOW)).toBe(true);
    expect(needsResponse(alarm('a', { snoozedUntil: NOW + 1 }), NOW)).toBe(false);
    const open = [
      alarm('h', { priority: 'high', state: 'acknowledged' }),
      alarm('m'),
      alarm('l', { priority: 'low' }),
    ];
    expect(loudestPriority(open, NOW)).toBe('medium');
    expect(loudestPriority([], NOW)).toBeUndefined();
  });

  it('counts open alarms per patient by priority', () => {
    const counts = countByPatient([
      alarm('a', { priority: 'high' }),
      alarm('b'),
      alarm('c', { patientId: 'p2', priority: 'low' }),
      alarm('d', { state: 'resolved' }),
    ]);
    expect(counts.get('p1')).toEqual({ high: 1, medium: 1, low: 0, total: 2 });
    expect(counts.get('p2')).toEqual({ high: 0, medium: 0, low: 1, total: 1 });
  });
});

describe('alarm wording', () => {
  it('names conditions in words', () => {
    expect(conditionText('threshold:spo2:low')).toBe('Oxygen saturation low');
    expect(conditionText('threshold:heart-rate:high')).toBe('Heart rate high');
    expect(conditionText('technical:lead-off:d1')).toBe('ECG lead off (d1)');
    expect(conditionText('technical:device-offline:ward-3:bed-2')).toBe('Device offline (ward-3:bed-2)');
    expect(conditionText('news2')).toBe('NEWS2 score raised');
    expect(conditionText('rhythm:af')).toBe('AF suspected');
    expect(conditionText('trend:heart-rate:rise')).toBe('Heart rate rising');
    expect(conditionText('something:new')).toBe('something:new');
  });

  it('offers snoozes up to the policy maximum', () => {
    expect(snoozeChoices(alarm('h', { priority: 'high' }))).toEqual([1, 2]);
    expect(snoozeChoices(alarm('m', { policy: { maxSnoozeMs: 10 * 60_000 } }))).toEqual([1, 2, 5, 10]);
    expect(snoozeChoices(alarm('x', { policy: { maxSnoozeMs: 30_000 } }))).toEqual([1]);
  });
});
