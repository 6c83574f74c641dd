import { describe, expect, it } from 'vitest';
import { explain, formatReading, orderedCodes, usualRange, VITAL_INFO, verdictOf } from './vitals.ts';

describe('plain-language vital signs', () => {
  it('says what the number is and what is normal, in one sentence', () => {
    expect(explain('spo2', 97)).toMatchObject({
      title: 'Oxygen saturation',
      reading: '97 %',
      sentence: 'Your oxygen saturation is 97 %: normal is 96–100 %.',
      verdict: 'usual',
      verdictText: 'In the usual range',
    });
    expect(explain('spo2', 97)?.advice).toBeUndefined();
    expect(explain('heart-rate', 72)?.sentence).toBe(
      'Your heart rate is 72 beats a minute: normal is 60–100 beats a minute.',
    );
    expect(explain('body-temperature', 36.84)?.sentence).toBe(
      'Your temperature is 36.8 °C: normal is 36.1–37.8 °C.',
    );
  });

  it('says a reading outside the usual range in words, with what to do, without alarming', () => {
    const low = explain('spo2', 91)!;
    expect(low.verdict).toBe('below');
    expect(low.verdictText).toBe('Lower than usual');
    expect(low.advice).toMatch(/contact your care team/);
    expect(low.advice).toMatch(/other targets/);
    expect(explain('respiratory-rate', 24)).toMatchObject({
      verdict: 'above',
      verdictText: 'Higher than usual',
    });
  });

  it('judges the value as shown: 37.84 °C shows as 37.8 and is usual', () => {
    const t = VITAL_INFO.get('body-temperature')!;
    expect(verdictOf(t, 37.84)).toBe('usual');
    expect(verdictOf(t, 37.86)).toBe('above');
    expect(verdictOf(VITAL_INFO.get('spo2')!, 95.6)).toBe('usual');
  });

  it('reads the early warning score as a risk band', () => {
    expect(explain('news2', 2)).toMatchObject({
      sentence: 'Your early warning score is 2: 0–4 means low risk.',
      verdictText: 'Low risk',
    });
    expect(explain('news2', 5)?.verdictText).toBe('Medium risk');
    expect(explain('news2', 8)?.verdictText).toBe('High risk');
    expect(explain('news2', 8)?.advice).toMatch(/care team is told/);
  });

  it('has no words for codes without guidance, or for a value that is not a number', () => {
    expect(explain('steps', 1000)).toBeUndefined();
    expect(explain('spo2', Number.NaN)).toBeUndefined();
    expect(formatReading('steps', 1000)).toBe('1000');
    expect(formatReading('weight', 71.456)).toBe('71.46');
    expect(usualRange(VITAL_INFO.get('news2')!)).toBe('0–4');
  });

  it('orders tiles by the usual order, unknown codes last', () => {
    expect(orderedCodes(['zzz', 'spo2', 'news2', 'heart-rate'])).toEqual([
      'news2',
      'heart-rate',
      'spo2',
      'zzz',
    ]);
  });
});
