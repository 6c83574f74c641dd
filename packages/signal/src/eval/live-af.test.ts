import { describe, expect, it } from 'vitest';
import { type LiveAfCall, referenceLabel, scoreLiveAf } from './live-af.ts';

const changes = [
  { sample: 0, rhythm: 'N' },
  { sample: 1000, rhythm: 'AFIB' },
  { sample: 3000, rhythm: 'N' },
];

describe('live AF scoring', () => {
  it('labels a stretch by every reference rhythm in it', () => {
    expect(referenceLabel(changes, 0, 1000)).toBe('not-af');
    expect(referenceLabel(changes, 1000, 3000)).toBe('af');
    expect(referenceLabel(changes, 900, 1100)).toBe('mixed');
    expect(referenceLabel(changes, 2900, 3100)).toBe('mixed');
    expect(referenceLabel([{ sample: 500, rhythm: 'N' }], 0, 400)).toBeUndefined();
  });

  it('counts sensitivity, specificity and each turn to AF during rhythm without AF', () => {
    const call = (label: LiveAfCall['label'], af: boolean): LiveAfCall => ({
      endS: 0,
      label,
      af,
      rrOnly: af,
      basis: af ? 'irregular-rr' : 'rr-not-af-like',
    });
    const s = scoreLiveAf(
      [
        [call('not-af', true), call('not-af', true), call('not-af', false), call('not-af', true)],
        [call('af', true), call('mixed', true), call('af', false), call('not-af', true)],
      ],
      (c) => c.af,
    );
    expect(s).toEqual({ afCalls: 2, notAfCalls: 5, sensitivity: 0.5, specificity: 0.2, falseOnsets: 3 });
  });
});
