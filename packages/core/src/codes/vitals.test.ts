import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { VITAL_PROFILE } from '../fhir/profiles.ts';
import {
  ACVPU_ANSWERS,
  LOINC,
  MDC,
  SNOMED,
  VITAL_CODES,
  VITALS,
  WAVEFORM_CODES,
  WAVEFORMS,
} from './vitals.ts';

interface UcumUtils {
  validateUnitString(unit: string, suggest?: boolean): { status: string; ucumCode: string | null };
}
// ucum-lhc ships CommonJS without types.
const ucum = createRequire(import.meta.url)('@lhncbc/ucum-lhc') as {
  UcumLhcUtils: { getInstance(): UcumUtils };
};
const utils = ucum.UcumLhcUtils.getInstance();

describe('vital-sign catalogue', () => {
  it('has every UCUM unit valid (ucum-lhc)', () => {
    const units = [
      ...Object.values(VITALS).flatMap((d) => (d.unit ? [d.unit] : [])),
      ...Object.values(WAVEFORMS).map((w) => w.unit),
    ];
    expect(units.length).toBeGreaterThan(10);
    for (const unit of units) {
      const r = utils.validateUnitString(unit, true);
      expect({ unit, status: r.status, ucum: r.ucumCode }).toEqual({ unit, status: 'valid', ucum: unit });
    }
    expect(utils.validateUnitString('mmHg', true).status).not.toBe('valid'); // the validator is real
  });

  it('keys every entry by its own code, with codings and a matching value kind', () => {
    expect(Object.keys(VITALS).sort()).toEqual([...VITAL_CODES].sort());
    expect(Object.keys(WAVEFORMS).sort()).toEqual([...WAVEFORM_CODES].sort());
    for (const [key, d] of Object.entries(VITALS)) {
      expect(d.code).toBe(key);
      expect(d.codings.length).toBeGreaterThan(0);
      expect(d.valueKind === 'quantity').toBe(d.unit !== undefined);
      if (d.valueKind === 'quantity') expect(d.min).toBeLessThan(d.max as number);
      for (const c of d.codings) expect([LOINC, SNOMED, MDC]).toContain(c.system);
    }
    for (const [key, w] of Object.entries(WAVEFORMS)) {
      expect(w.code).toBe(key);
      expect(w.codings[0]?.system).toBe(MDC);
    }
  });

  it('has LOINC codes well-formed (check digit) and MDC codes in partition 2 (SCADA)', () => {
    const loincCheck = (code: string) => {
      const [body, check] = code.split('-') as [string, string];
      // Mod 10 (Luhn) over the body, as LOINC defines it.
      let sum = 0;
      [...body].reverse().forEach((ch, i) => {
        let d = Number(ch) * (i % 2 === 0 ? 2 : 1);
        if (d > 9) d -= 9;
        sum += d;
      });
      return (10 - (sum % 10)) % 10 === Number(check);
    };
    const all = [...Object.values(VITALS), ...Object.values(WAVEFORMS)].flatMap((d) => d.codings);
    for (const c of all.filter((c) => c.system === LOINC)) expect(loincCheck(c.code), c.code).toBe(true);
    for (const c of all.filter((c) => c.system === MDC)) {
      expect(Math.floor(Number(c.code) / 65536), c.code).toBe(2);
      expect(c.display).toMatch(/^MDC_/);
    }
  });

  it('carries the LOINC code each specific vital-signs profile requires', () => {
    const required: Record<string, string> = {
      heartrate: '8867-4',
      oxygensat: '2708-6',
      resprate: '9279-1',
      bodytemp: '8310-5',
    };
    for (const [code, profile] of Object.entries(VITAL_PROFILE)) {
      const need = required[profile?.split('/').pop() ?? ''];
      if (!need) continue;
      expect(VITALS[code as keyof typeof VITALS].codings.map((c) => c.code)).toContain(need);
    }
  });

  it('codes every ACVPU letter with SNOMED CT', () => {
    const def = VITALS.consciousness;
    expect(Object.keys(def.answerCodings ?? {})).toEqual(def.allowedCodes);
    for (const c of Object.values(ACVPU_ANSWERS)) expect(c.system).toBe(SNOMED);
    expect(def.codings[0]?.code).toBe('1104441000000107');
  });
});
