import { describe, expect, it } from 'vitest';
import { evaluateTechnical, initialTechnicalState } from './technical.ts';

const T0 = 1_700_000_000_000;

describe('technical conditions', () => {
  it('lead off, low battery with hysteresis, poor signal for 10 s', () => {
    let s = initialTechnicalState;
    const types: string[] = [];
    const report = (r: Parameters<typeof evaluateTechnical>[2]) => {
      const step = evaluateTechnical('d1', s, r);
      s = step.state;
      types.push(...step.events.map((e) => `${e.type} ${e.condition}`));
    };
    report({ at: T0, leadOff: true, battery: 50, signalQuality: 0.9 });
    report({ at: T0 + 1000, leadOff: false, battery: 19 });
    report({ at: T0 + 2000, battery: 22 });
    report({ at: T0 + 3000, battery: 25, signalQuality: 0.3 });
    report({ at: T0 + 13_000, signalQuality: 0.3 });
    report({ at: T0 + 14_000, signalQuality: 0.65 });
    expect(types).toEqual([
      'onset technical:lead-off:d1',
      'clear technical:lead-off:d1',
      'onset technical:low-battery:d1',
      'clear technical:low-battery:d1',
      'onset technical:poor-signal:d1',
      'clear technical:poor-signal:d1',
    ]);
  });
  it('refuses a NaN battery with a reason naming it', () => {
    expect(evaluateTechnical('d1', initialTechnicalState, { at: T0, battery: Number.NaN }).refused).toMatch(
      /battery: value/,
    );
  });
});
