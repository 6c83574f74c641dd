/**
 * The device-offline rule: a pure evaluator that takes its state and one input (data, a clock tick with
 * `now`, or the platform listening again) and returns the next state and any condition onset/clear events.
 */
import type { ConditionEvent, RuleStep } from './condition.ts';

/**
 * Device offline: no data for twice the device's expected reporting interval. The platform's own downtime
 * is not the device's silence: after a start, silence counts from when the platform could hear the device
 * again (`listening`), so a restart does not page every device offline, while a device that stays silent
 * after it is still found within twice its interval.
 */
export interface StalenessState {
  readonly active: boolean;
  /** Last data time, or when monitoring of the device began. */
  readonly lastSeenAt: number;
  /** When the platform (re)started listening for devices, if after the last data. */
  readonly listeningSince?: number;
  /**
   * How long devices may take to reconnect after the platform listens again (their reconnect backoff):
   * silence since the restart is blamed on a device only after the longer of this and twice its interval.
   */
  readonly reconnectGraceMs?: number;
}
export type StalenessInput =
  | { readonly type: 'data'; readonly at: number }
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'listening'; readonly at: number; readonly reconnectGraceMs?: number };

export const offlineCondition = (deviceId: string): string => `technical:device-offline:${deviceId}`;

/** Since when the device has been silent, as far as it can be blamed for it. */
const silentSince = (s: StalenessState): number => Math.max(s.lastSeenAt, s.listeningSince ?? s.lastSeenAt);

/** How long a silence from `silentSince` may last before the device is offline. */
function allowedSilenceMs(s: StalenessState, expectedIntervalMs: number): number {
  const sinceRestart = s.listeningSince !== undefined && s.listeningSince > s.lastSeenAt;
  return Math.max(2 * expectedIntervalMs, sinceRestart ? (s.reconnectGraceMs ?? 0) : 0);
}

export function evaluateStaleness(
  deviceId: string,
  expectedIntervalMs: number,
  state: StalenessState,
  input: StalenessInput,
): RuleStep<StalenessState> {
  if (!(expectedIntervalMs > 0 && Number.isFinite(expectedIntervalMs))) {
    return { state, events: [], refused: `expectedIntervalMs must be > 0, got ${expectedIntervalMs}` };
  }
  const time = input.type === 'tick' ? input.now : input.at;
  if (!Number.isFinite(time))
    return { state, events: [], refused: `${input.type}: time must be finite, got ${time}` };
  if (input.type === 'listening') {
    const grace = input.reconnectGraceMs;
    const listening = { ...state, listeningSince: Math.max(state.listeningSince ?? time, time) };
    return {
      state: grace !== undefined && grace > 0 ? { ...listening, reconnectGraceMs: grace } : listening,
      events: [],
    };
  }
  if (input.type === 'data') {
    const next = { active: false, lastSeenAt: Math.max(state.lastSeenAt, time) };
    return {
      state: next,
      events: state.active ? [offlineEvent(deviceId, 'clear', time, 'data received again')] : [],
    };
  }
  if (state.active || time - silentSince(state) < allowedSilenceMs(state, expectedIntervalMs))
    return { state, events: [] };
  const s = (ms: number) => Math.round(ms / 1000);
  const restarted =
    state.listeningSince !== undefined && state.listeningSince > state.lastSeenAt
      ? `, ${s(time - state.listeningSince)} s of it since the platform started listening`
      : '';
  const reason = `no data for ${s(time - state.lastSeenAt)} s (expected every ${expectedIntervalMs / 1000} s)${restarted}`;
  return { state: { ...state, active: true }, events: [offlineEvent(deviceId, 'onset', time, reason)] };
}

// Module-level, not a closure per call: the runtime's keep-names transform makes each named closure
// cost a property definition, and this runs for every reading.
function offlineEvent(
  deviceId: string,
  type: ConditionEvent['type'],
  at: number,
  reason: string,
): ConditionEvent {
  return {
    type,
    condition: offlineCondition(deviceId),
    category: 'technical',
    priority: 'medium',
    at,
    reason,
  };
}

/** The device's offline condition ends without data (it was unassigned or revoked). */
export const offlineCleared = (deviceId: string, at: number, reason: string): ConditionEvent =>
  offlineEvent(deviceId, 'clear', at, reason);

/** When a tick must come to detect the device offline on time. */
export const stalenessDueAt = (state: StalenessState, expectedIntervalMs: number): number | undefined =>
  state.active ? undefined : silentSince(state) + allowedSilenceMs(state, expectedIntervalMs);
