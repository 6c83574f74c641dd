/**
 * `#/census`: my patients, most urgent first (open alarm priority, then NEWS2), live. One `/api/v1/live`
 * socket carries every listed patient's vitals, NEWS2 and device changes; messages are folded into the
 * rows once per animation frame, and a row is drawn again only when its data changed (or the clock
 * ticked, for ages and stale marks), so hundreds of streaming patients stay smooth. Values change in place;
 * the order is held (census-order.ts): re-ranked at most every 10 s and never under the pointer or the
 * keyboard focus, except that a patient with a new high alarm or a high NEWS2 band moves up at once.
 * When the patients in my care change, the alarm stream says so and the census is fetched again.
 */
import { Component } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { query } from '../api.ts';
import { href } from '../router.ts';
import { asApiError } from '../ui/async.ts';
import { ErrorNotice, Loading, Page, PriorityBadge, StatusBadge } from '../ui/kit.tsx';
import type { alarmFeed } from './alarm-feed.ts';
import { countByPatient } from './alarms-model.ts';
import { loadCensus, serverNow } from './census-cache.ts';
import { applyLive, devicesAt, matchesFilter, NO_ALARMS, patientName, seenDevice } from './census-model.ts';
import { type CensusOrder, nextCensusOrder, nextRankAt } from './census-order.ts';
import { browserScheduler, frameBatcher } from './frame-batch.ts';
import { LiveSocket, type StreamStatus, statusText } from './live.ts';
import type { AlarmCounts, CensusRow, LiveMessage } from './live-types.ts';
import { ageText, bandText, HEADLINE_VITALS, headline, news2ParameterLabel } from './vitals.ts';

/** The live stream takes at most this many patients (the server's limit). */
const MAX_LIVE = 500;
const TICK_MS = 5000;

export function CensusScreen({ feed }: { feed: typeof alarmFeed }) {
  const rows = useRef(new Map<string, CensusRow>());
  const [, setVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ReturnType<typeof asApiError>>();
  const [patients, setPatients] = useState('');
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [filter, setFilter] = useState('');
  const [now, setNow] = useState(serverNow);
  const order = useRef<CensusOrder | undefined>(undefined);
  const resortAsked = useRef(false);
  const zone = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const pointerInside = useRef(false);
  const redraw = () => setVersion((v) => v + 1);
  /** Pointer over the list, or keyboard focus inside it (a mouse click leaves no visible focus to hold). */
  const interacting = () => {
    const f = document.activeElement;
    return pointerInside.current || (!!f && !!zone.current?.contains(f) && f.matches(':focus-visible'));
  };

  const load = async () => {
    try {
      const c = await loadCensus(0);
      rows.current = new Map(c.items.map((r) => [r.patientId, r]));
      setError(undefined);
      setLoaded(true);
      setVersion((v) => v + 1);
      setNow(serverNow());
      setPatients(
        c.items
          .slice(0, MAX_LIVE)
          .map((r) => r.patientId)
          .sort()
          .join(','),
      );
    } catch (e) {
      setError(asApiError(e));
    }
  };

  useEffect(() => {
    void load();
    const t = setInterval(() => setNow(serverNow()), TICK_MS);
    // A patient added to (or removed from) my care shows (or goes) without a reload.
    const unsubscribe = feed.onPatientsChanged(() => void load());
    return () => {
      clearInterval(t);
      unsubscribe();
    };
  }, []);

  useEffect(() => {
    if (!patients) return;
    const batch = frameBatcher<LiveMessage>((messages) => {
      const map = rows.current;
      const seenAt = new Date(serverNow()).toISOString();
      let changed = false;
      for (const m of messages) {
        if (m.type === 'hello') continue;
        const row = map.get(m.patientId);
        if (!row) continue;
        let next = applyLive(row, m);
        if ((m.type === 'vitals' || m.type === 'waveform') && m.deviceId !== undefined)
          next = seenDevice(next, m.deviceId, seenAt);
        if (next !== row) {
          map.set(m.patientId, next);
          changed = true;
        }
      }
      if (changed) setVersion((v) => v + 1);
    }, browserScheduler());
    const live = new LiveSocket<LiveMessage>(() => `/api/v1/live${query({ patients })}`, {
      message: (m) => batch.push(m),
      // Whatever happened while disconnected (including the server's "too slow" close) is in a new census.
      opened: (again) => {
        if (again) void load();
      },
      status: setStatus,
    }).start();
    return () => {
      live.stop();
      batch.cancel();
    };
  }, [patients]);

  const liveCounts = feed.loaded ? countByPatient(feed.open.values()) : undefined;
  const alarmsOf = (r: CensusRow): AlarmCounts =>
    liveCounts ? (liveCounts.get(r.patientId) ?? NO_ALARMS) : r.alarms;
  const all = [...rows.current.values()];
  const matching = new Set(all.filter((r) => matchesFilter(r, filter, alarmsOf(r))).map((r) => r.patientId));
  const held = nextCensusOrder(order.current, {
    rows: all,
    now: Date.now(),
    interacting: interacting(),
    resortNow: resortAsked.current,
    alarmsOf,
    visible: (r) => matching.has(r.patientId),
  });
  order.current = held;
  resortAsked.current = false;
  const shown = held.ids.filter((id) => matching.has(id)).map((id) => rows.current.get(id) as CensusRow);
  const resort = () => {
    resortAsked.current = true;
    redraw();
  };

  // A held change is shown once due and the user has left the list (data renders come often, not always).
  useEffect(() => {
    if (!held.resortPending) return;
    const t = setInterval(() => {
      if (order.current && Date.now() >= nextRankAt(order.current) && !interacting()) redraw();
    }, 1000);
    return () => clearInterval(t);
  }, [held.resortPending]);

  return (
    <Page
      title="Census"
      actions={
        <button
          type="button"
          onClick={() => {
            // Asked for: the fresh census is shown ranked.
            void load().then(resort);
          }}
        >
          Refresh
        </button>
      }
    >
      <div class="toolbar">
        <div class="field filter-field">
          <label for="census-filter">Filter patients</label>
          <input
            id="census-filter"
            type="search"
            value={filter}
            placeholder="Name, id, high, medium, stale…"
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </div>
        <p class="stream-line" role="status" hidden={loaded && all.length === 0}>
          <span class={`live-dot live-${status}`} aria-hidden="true" />
          {statusText(status)}
          {all.length > MAX_LIVE ? ` (the first ${MAX_LIVE} patients update live)` : ''}
        </p>
      </div>
      <ErrorNotice error={error} />
      {!loaded ? (
        error ? null : (
          <Loading what="the census" />
        )
      ) : all.length === 0 ? (
        <p class="empty">No patients on your census. An administrator adds you to a care team.</p>
      ) : (
        <div
          ref={zone}
          onPointerEnter={() => {
            pointerInside.current = true;
          }}
          onPointerLeave={() => {
            pointerInside.current = false;
            redraw();
          }}
          onFocusOut={redraw}
        >
          <div class="census-head">
            <p class="result-count">
              {shown.length === all.length
                ? `${all.length} patient${all.length === 1 ? '' : 's'}, most urgent first`
                : `${shown.length} of ${all.length} patients match`}
            </p>
            {/* Always in the page, so the notice is announced when it appears; the row keeps its height. */}
            <div class="census-resort" role="status">
              {held.resortPending ? (
                <button
                  type="button"
                  class="resort"
                  onClick={() => {
                    resort();
                    // The button goes: focus the list, so the keyboard goes on from there.
                    list.current?.focus();
                  }}
                >
                  Order changed — re-sort
                </button>
              ) : null}
            </div>
          </div>
          <ul ref={list} tabIndex={-1} class="census" aria-label="Patients, most urgent first">
            {shown.map((r) => (
              <CensusRowView key={r.patientId} row={r} alarms={alarmsOf(r)} now={now} />
            ))}
          </ul>
        </div>
      )}
    </Page>
  );
}

interface RowProps {
  row: CensusRow;
  alarms: AlarmCounts;
  now: number;
}

const sameCounts = (a: AlarmCounts, b: AlarmCounts) =>
  a.high === b.high && a.medium === b.medium && a.low === b.low && a.total === b.total;

/** A class component for its shouldComponentUpdate: a row is drawn again only when its inputs changed. */
class CensusRowView extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return (
      next.row !== this.props.row ||
      next.now !== this.props.now ||
      !sameCounts(next.alarms, this.props.alarms)
    );
  }

  override render() {
    const { row, alarms, now } = this.props;
    const tier = alarms.high > 0 ? 'high' : alarms.medium > 0 ? 'medium' : alarms.low > 0 ? 'low' : 'none';
    const devices = devicesAt(row.devices, now);
    const name = patientName(row);
    return (
      <li
        class={`census-row urgency-${tier}`}
        data-testid="census-row"
        data-patient-id={row.patientId}
        data-top-priority={tier}
        data-news2={row.news2?.total}
      >
        <div class="cr-patient">
          <a class="cr-name" href={href('patients', row.patientId)}>
            {name}
          </a>
          {row.displayName ? <span class="mono cr-id">{row.patientId}</span> : null}
        </div>
        <div class="cr-news2">
          <span class="cr-label">NEWS2</span>
          {row.news2 ? (
            <span class={`news2 band-${row.news2.band}`}>
              <span class="news2-total">{row.news2.total}</span>{' '}
              <span class="news2-band">{bandText(row.news2.band)}</span>
              {row.news2.complete ? null : (
                <span class="news2-incomplete">
                  incomplete
                  <span class="visually-hidden">
                    : not scored {row.news2.missing.map(news2ParameterLabel).join(', ')}
                  </span>
                </span>
              )}
            </span>
          ) : (
            <span class="muted">Not scored</span>
          )}
        </div>
        <div class="cr-alarms">
          <span class="cr-label">Open alarms</span>
          {alarms.total === 0 ? (
            <span class="muted">None</span>
          ) : (
            <span class="cr-alarm-badges">
              {(['high', 'medium', 'low'] as const)
                .filter((p) => alarms[p] > 0)
                .map((p) => (
                  <span key={p} class="cr-alarm-count">
                    <PriorityBadge priority={p} /> ×{alarms[p]}
                  </span>
                ))}
            </span>
          )}
        </div>
        <dl class="cr-vitals">
          {HEADLINE_VITALS.map((key) => {
            const h = headline(key, row.vitals, now);
            return (
              <div key={key} class={`cr-vital${h.missing ? ' missing' : h.stale ? ' stale' : ''}`}>
                <dt title={h.label}>
                  <abbr title={h.label}>{h.short}</abbr>
                </dt>
                <dd>
                  <span class="v">{h.text}</span>
                  {h.missing ? null : <span class="u"> {h.unit}</span>}
                  {h.missing ? null : (
                    <span class="age">
                      {h.stale ? 'stale, ' : ''}
                      {ageText(h.at, now)}
                    </span>
                  )}
                </dd>
              </div>
            );
          })}
        </dl>
        <ul class="cr-devices" aria-label={`Devices of ${name}`}>
          {devices.length === 0 ? <li class="muted">No device</li> : null}
          {devices.map((d) => (
            <li key={d.id} class={`device-${d.status}`}>
              <span class="device-kind">{d.kind}</span> <StatusBadge status={d.status} />
              {d.battery !== undefined && d.battery <= 20 ? (
                <span class="battery-low"> battery {Math.round(d.battery)} %</span>
              ) : null}
            </li>
          ))}
        </ul>
      </li>
    );
  }
}
