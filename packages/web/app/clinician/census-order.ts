/**
 * The census order as shown: values update in place, but rows move only in a controlled way, so a row does
 * not jump away while someone reads it or is about to click it. Pure (times and the interaction are
 * arguments), so the rules below are unit-tested and drawn the same.
 *
 * - The list is re-ranked at most every HOLD_MS, and never while the user is interacting with it (pointer
 *   over it, focus inside it); the user can re-rank at once (the "Order changed — re-sort" button).
 * - Safety beats stability: a patient who gets a new high-priority alarm, or whose NEWS2 band becomes high,
 *   moves to the top at once. A patient with an open high alarm is never shown below one without, so a
 *   high band without a high alarm goes to the top of the patients without one.
 * - A new patient is appended (ranked at the next re-rank); a patient who left the census vanishes at once.
 */
import { byUrgency } from './census-model.ts';
import type { AlarmCounts, CensusRow } from './live-types.ts';

/** The shortest time between two automatic re-ranks. */
export const HOLD_MS = 10_000;

/** What a patient looked like at the last update, to tell what is new: open high alarms, a high band. */
export interface Watched {
  readonly high: number;
  readonly news2High: boolean;
}

export interface CensusOrder {
  /** Patient ids in the order to display. */
  readonly ids: readonly string[];
  readonly watched: ReadonlyMap<string, Watched>;
  /** When the order was last made the true ranking (epoch ms). */
  readonly rankedAt: number;
  /** The displayed order differs from the true ranking (for the visible rows): offer a re-sort. */
  readonly resortPending: boolean;
}

export interface OrderUpdate {
  /** The current rows, in any order. */
  readonly rows: readonly CensusRow[];
  readonly now: number;
  /** Pointer over the list or focus inside it. */
  readonly interacting: boolean;
  /** The user asked for a re-sort now. */
  readonly resortNow?: boolean;
  /** Open alarm counts of a row (the live alarm stream's when it has loaded). */
  readonly alarmsOf?: (row: CensusRow) => AlarmCounts;
  /** Rows shown (the filter): only a difference among them makes a re-sort pending. */
  readonly visible?: (row: CensusRow) => boolean;
}

const sameIds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * The order to display after an update, from the previous one (undefined on the first load). Called on
 * every render: with the same rows and a previous result, it returns the same order.
 */
export function nextCensusOrder(previous: CensusOrder | undefined, u: OrderUpdate): CensusOrder {
  const alarmsOf = u.alarmsOf ?? ((r: CensusRow) => r.alarms);
  const visible = u.visible ?? (() => true);
  const byId = new Map(u.rows.map((r) => [r.patientId, r]));
  const ranked = [...u.rows].sort((a, b) => byUrgency(a, b, alarmsOf));
  const rankedIds = ranked.map((r) => r.patientId);
  const watched = new Map<string, Watched>();
  for (const r of u.rows)
    watched.set(r.patientId, { high: alarmsOf(r).high, news2High: r.news2?.band === 'high' });
  const rankedNow = (): CensusOrder => ({ ids: rankedIds, watched, rankedAt: u.now, resortPending: false });

  if (!previous || previous.ids.length === 0 || u.resortNow) return rankedNow();

  // The held order: the previous one without the patients who left, new patients after it (in rank order).
  const known = new Set(previous.ids);
  const held = previous.ids.filter((id) => byId.has(id));
  for (const id of rankedIds) if (!known.has(id)) held.push(id);

  if (!u.interacting && u.now - previous.rankedAt >= HOLD_MS)
    // Due: show the true ranking (a re-rank only if something moves, so the next change is not held).
    return sameIds(held, rankedIds)
      ? {
          ids: sameIds(held, previous.ids) ? previous.ids : rankedIds,
          watched,
          rankedAt: previous.rankedAt,
          resortPending: false,
        }
      : rankedNow();

  // Escalations (a new high alarm, a NEWS2 band become high) move up at once, most urgent first among
  // themselves; the high-alarm block is kept on top (so one whose high alarm resolved drops just below it).
  // Everything else keeps its place.
  const escalated: string[] = [];
  for (const r of ranked) {
    const was = previous.watched.get(r.patientId);
    const is = watched.get(r.patientId) as Watched;
    if (is.high > (was?.high ?? 0) || (is.news2High && !was?.news2High)) escalated.push(r.patientId);
  }
  let ids: readonly string[] = held;
  if (escalated.length > 0 || !highOnTop(held, watched)) {
    const moved = new Set(escalated);
    const stay = held.filter((id) => !moved.has(id));
    const hasHigh = (id: string) => (watched.get(id)?.high ?? 0) > 0;
    ids = [
      ...escalated.filter(hasHigh),
      ...stay.filter(hasHigh),
      ...escalated.filter((id) => !hasHigh(id)),
      ...stay.filter((id) => !hasHigh(id)),
    ];
  }
  if (sameIds(ids, previous.ids)) ids = previous.ids;
  const shown = (list: readonly string[]) => list.filter((id) => visible(byId.get(id) as CensusRow));
  return {
    ids,
    watched,
    rankedAt: previous.rankedAt,
    resortPending: !sameIds(shown(ids), shown(rankedIds)),
  };
}

/** No patient without an open high alarm stands above one with. */
function highOnTop(ids: readonly string[], watched: ReadonlyMap<string, Watched>): boolean {
  let seenOther = false;
  for (const id of ids) {
    const high = (watched.get(id)?.high ?? 0) > 0;
    if (high && seenOther) return false;
    if (!high) seenOther = true;
  }
  return true;
}

/** When the held order may next be re-ranked on its own (epoch ms). */
export const nextRankAt = (order: CensusOrder) => order.rankedAt + HOLD_MS;
