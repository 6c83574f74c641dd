/**
 * NEWS2 Chart 1 (Royal College of Physicians, 2017), one scoring function per parameter. Values are
 * already validated and rounded as the chart expects: integers for rates, saturation and pressure,
 * tenths of a degree for temperature (passed as integer tenths so that no float comparison decides a
 * band edge). See /work/shared/reference/news2.md and docs for the citation.
 */

export type News2Points = 0 | 1 | 2 | 3;
export type Acvpu = 'A' | 'C' | 'V' | 'P' | 'U';

/** Respiration rate /min: <=8 3, 9-11 1, 12-20 0, 21-24 2, >=25 3. */
export function scoreRespirationRate(rr: number): News2Points {
  if (rr <= 8) return 3;
  if (rr <= 11) return 1;
  if (rr <= 20) return 0;
  if (rr <= 24) return 2;
  return 3;
}

/** SpO2 Scale 1 (%): <=91 3, 92-93 2, 94-95 1, >=96 0. */
export function scoreSpo2Scale1(spo2: number): News2Points {
  if (spo2 <= 91) return 3;
  if (spo2 <= 93) return 2;
  if (spo2 <= 95) return 1;
  return 0;
}

/**
 * SpO2 Scale 2 (%), for prescribed hypercapnic targets of 88-92: <=83 3, 84-85 2, 86-87 1, 88-92 0,
 * >=93 on air 0; on oxygen 93-94 1, 95-96 2, >=97 3 (over-oxygenation scores).
 */
export function scoreSpo2Scale2(spo2: number, onOxygen: boolean): News2Points {
  if (spo2 <= 83) return 3;
  if (spo2 <= 85) return 2;
  if (spo2 <= 87) return 1;
  if (spo2 <= 92 || !onOxygen) return 0;
  if (spo2 <= 94) return 1;
  if (spo2 <= 96) return 2;
  return 3;
}

/** Air or oxygen: any supplemental oxygen scores 2. */
export const scoreAirOrOxygen = (onOxygen: boolean): News2Points => (onOxygen ? 2 : 0);

/** Systolic BP mmHg: <=90 3, 91-100 2, 101-110 1, 111-219 0, >=220 3. */
export function scoreSystolicBp(sbp: number): News2Points {
  if (sbp <= 90) return 3;
  if (sbp <= 100) return 2;
  if (sbp <= 110) return 1;
  if (sbp <= 219) return 0;
  return 3;
}

/** Pulse /min: <=40 3, 41-50 1, 51-90 0, 91-110 1, 111-130 2, >=131 3. */
export function scorePulse(pulse: number): News2Points {
  if (pulse <= 40) return 3;
  if (pulse <= 50) return 1;
  if (pulse <= 90) return 0;
  if (pulse <= 110) return 1;
  if (pulse <= 130) return 2;
  return 3;
}

/** ACVPU: Alert 0; new Confusion, Voice, Pain or Unresponsive 3. */
export const scoreConsciousness = (level: Acvpu): News2Points => (level === 'A' ? 0 : 3);

/** Temperature in tenths of a degree C: <=35.0 3, 35.1-36.0 1, 36.1-38.0 0, 38.1-39.0 1, >=39.1 2. */
export function scoreTemperatureTenths(tenths: number): News2Points {
  if (tenths <= 350) return 3;
  if (tenths <= 360) return 1;
  if (tenths <= 380) return 0;
  if (tenths <= 390) return 1;
  return 2;
}
