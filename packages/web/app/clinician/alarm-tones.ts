/**
 * The audible alarm signal as data, after IEC 60601-1-8 (table 3): high priority is a burst of 10 pulses
 * grouped 3+2, 3+2; medium a burst of 3; low is visual only here. Pulse duration, spacing and burst
 * interval are within the standard's ranges. Pure: alarm-sound.ts plays it with WebAudio.
 */
import type { AlarmPriority } from './alarms-model.ts';

export interface Pulse {
  /** Seconds from the start of the burst. */
  readonly at: number;
  readonly duration: number;
  /** Fundamental frequency, Hz (150-1000 Hz in the standard). */
  readonly frequency: number;
}

/** High: pulse 150 ms, spacing 100 ms; 3rd→4th spacing 2·ts+td, 5th→6th spacing 500 ms. */
const HIGH = { td: 0.15, ts: 0.1, groupGap: 0.5, frequency: 660 };
/** Medium: three pulses of 200 ms, 200 ms apart. */
const MEDIUM = { td: 0.2, ts: 0.2, frequency: 523 };

export function burst(priority: AlarmPriority): Pulse[] {
  if (priority === 'low') return [];
  if (priority === 'medium')
    return [0, 1, 2].map((i) => ({
      at: i * (MEDIUM.td + MEDIUM.ts),
      duration: MEDIUM.td,
      frequency: MEDIUM.frequency,
    }));
  const { td, ts, groupGap, frequency } = HIGH;
  const pulses: Pulse[] = [];
  let t = 0;
  // Two halves of "3 + 2": a half is 5 pulses, with a longer pause after the third.
  for (let half = 0; half < 2; half++) {
    for (let i = 0; i < 5; i++) {
      pulses.push({ at: round(t), duration: td, frequency });
      t += td + (i === 2 ? 2 * ts + td : i === 4 ? groupGap : ts);
    }
  }
  return pulses;
}

/** How often the burst repeats while an alarm of that priority needs a response (s); none for low. */
export function repeatSeconds(priority: AlarmPriority): number | undefined {
  return priority === 'high' ? 10 : priority === 'medium' ? 25 : undefined;
}

export function burstLength(pulses: readonly Pulse[]): number {
  const last = pulses[pulses.length - 1];
  return last ? round(last.at + last.duration) : 0;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
