import type { ThresholdRule } from '@openiomt/core';
import { describe, expect, it } from 'vitest';
import { settingsChange } from './settings-audit.ts';

const rule = (vital: string, direction: 'high' | 'low', limit: number, extra: object = {}): ThresholdRule =>
  ({ vital, direction, limit, hysteresis: 2, priority: 'high', ...extra }) as ThresholdRule;

describe('the audit summary of an alarm-settings change', () => {
  it('names thresholds added, removed and modified by vital and direction, never their limits', () => {
    const before = {
      thresholds: [rule('spo2', 'low', 92), rule('heart-rate', 'high', 130)],
      spo2Scale2: false,
    };
    const after = {
      thresholds: [rule('spo2', 'low', 88), rule('respiratory-rate', 'high', 25)],
      spo2Scale2: false,
    };
    const change = settingsChange(before, after);
    expect(change).toEqual({
      thresholds: 2,
      added: ['respiratory-rate:high'],
      removed: ['heart-rate:high'],
      modified: ['spo2:low'],
    });
    expect(JSON.stringify(change)).not.toMatch(/88|92|130|25/);
  });

  it('sees no change in a rule written with its fields in another order, and names a Scale 2 change', () => {
    const a = rule('spo2', 'low', 92, { forMs: 10_000 });
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as ThresholdRule;
    expect(
      settingsChange({ thresholds: [a], spo2Scale2: false }, { thresholds: [reordered], spo2Scale2: true }),
    ).toEqual({ thresholds: 1, added: [], removed: [], modified: ['spo2Scale2'] });
    // A rule's other fields count as a change too (here how long the breach must last).
    const longer = rule('spo2', 'low', 92, { forMs: 20_000 });
    expect(
      settingsChange({ thresholds: [a], spo2Scale2: true }, { thresholds: [longer], spo2Scale2: true })
        .modified,
    ).toEqual(['spo2:low']);
  });

  it('treats first settings as all added', () => {
    expect(settingsChange(undefined, { thresholds: [rule('spo2', 'low', 90)], spo2Scale2: true })).toEqual({
      thresholds: 1,
      added: ['spo2:low'],
      removed: [],
      modified: ['spo2Scale2'],
    });
  });
});
