/** The parts of the patient view (patient.tsx): vital tiles, the NEWS2 breakdown, devices, recently resolved alarms. */

import type { ApiError } from '../api.ts';
import { get, query } from '../api.ts';
import { useLoad } from '../ui/async.ts';
import { ErrorNotice, StatusBadge, Time } from '../ui/kit.tsx';
import { type Alarm, conditionText } from './alarms-model.ts';
import { devicesAt } from './census-model.ts';
import type { CensusRow } from './live-types.ts';
import {
  ageText,
  bandText,
  formatVital,
  isStale,
  news2ParameterLabel,
  unitText,
  VITAL_INFO,
} from './vitals.ts';

export interface News2Detail {
  readonly total: number;
  readonly band: string;
  readonly complete: boolean;
  readonly scale: 1 | 2;
  readonly scores: Readonly<Record<string, number>>;
  readonly issues: readonly { parameter: string; problem: string; detail: string }[];
}

/** `GET /api/v1/patients/{id}/news2`: the score, null until a NEWS2 parameter arrived since start. */
export interface News2Answer {
  readonly patientId: string;
  readonly score: News2Detail | null;
  readonly detail?: string;
}

const TILE_CODES = [
  'heart-rate',
  'pulse-rate',
  'spo2',
  'respiratory-rate',
  'bp',
  'body-temperature',
] as const;

export function VitalTiles({ row, now }: { row: CensusRow; now: number }) {
  return (
    <ul class="tiles" aria-label="Latest vital signs">
      {TILE_CODES.map((code) => {
        const bp = code === 'bp';
        const v = bp ? row.vitals['bp-systolic'] : row.vitals[code];
        const dia = row.vitals['bp-diastolic'];
        const mean = row.vitals['bp-mean'];
        const at = v?.at ?? (bp ? dia?.at : undefined);
        const stale = isStale(code, at, now);
        const label = bp ? 'Blood pressure' : (VITAL_INFO[code]?.label ?? code);
        const text = bp
          ? v || dia
            ? `${formatVital('bp-systolic', v?.value)}/${formatVital('bp-diastolic', dia?.value)}`
            : '–'
          : formatVital(code, v?.value);
        return (
          <li
            key={code}
            class={`tile${!at ? ' missing' : stale ? ' stale' : ''}`}
            data-testid="vital-tile"
            data-code={code}
          >
            <span class="tile-label">{label}</span>
            <span class="tile-value">
              {text}
              {at ? <span class="tile-unit"> {bp ? 'mmHg' : unitText(code, v?.unit)}</span> : null}
            </span>
            {bp && mean ? <span class="tile-extra">mean {formatVital('bp-mean', mean.value)}</span> : null}
            <span class="tile-time">
              {!at ? (
                'No reading'
              ) : (
                <>
                  {stale ? <strong class="stale-mark">Stale · </strong> : null}
                  <time dateTime={at} title={new Date(at).toLocaleString()}>
                    {new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
                  </time>
                  {`, ${ageText(at, now) === 'now' ? 'just now' : `${ageText(at, now)} ago`}`}
                </>
              )}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function News2Panel({
  row,
  detail,
  error,
}: {
  row: CensusRow;
  detail: News2Detail | undefined;
  error: ApiError | undefined;
}) {
  const s = row.news2;
  return (
    <div class={`news2-panel band-${s?.band ?? 'none'}`} data-testid="news2">
      <p class="news2-headline">
        <span class="tile-label">NEWS2</span>{' '}
        {s ? (
          <>
            <span class="news2-total">{s.total}</span> <span class="news2-band">{bandText(s.band)} risk</span>
            {s.complete ? null : (
              <span class="news2-incomplete">
                {' '}
                incomplete, a lower bound: not scored {s.missing.map(news2ParameterLabel).join(', ')}
              </span>
            )}
          </>
        ) : (
          <span class="muted">Not scored yet</span>
        )}
      </p>
      <ErrorNotice error={error} />
      {detail?.scores && Object.keys(detail.scores).length > 0 ? (
        <table class="news2-table">
          <caption class="visually-hidden">NEWS2 points by parameter</caption>
          <thead>
            <tr>
              <th scope="col">Parameter</th>
              <th scope="col">Points</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(detail.scores).map(([p, points]) => (
              <tr key={p}>
                <th scope="row">{news2ParameterLabel(p)}</th>
                <td>{points}</td>
              </tr>
            ))}
            {(detail.issues ?? []).map((i) => (
              <tr key={`issue-${i.parameter}`}>
                <th scope="row">{news2ParameterLabel(i.parameter)}</th>
                <td>
                  not scored ({i.problem}){i.detail ? `: ${i.detail}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {detail?.scale === 2 ? <p class="hint">SpO₂ scored on Scale 2 (prescribed).</p> : null}
    </div>
  );
}

export function DeviceTable({ row, now }: { row: CensusRow; now: number }) {
  const devices = devicesAt(row.devices, now);
  if (devices.length === 0) return <p class="empty">No device assigned, or none known to your census.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Status</th>
            <th scope="col">Last seen</th>
            <th scope="col">Expected every</th>
            <th scope="col">Battery</th>
            <th scope="col">Firmware</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.id} data-testid="device-row" data-device-id={d.id} data-status={d.status}>
              <th scope="row">
                {d.kind} <span class="mono muted">{d.id}</span>
              </th>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td>{d.lastSeenAt ? <Time at={d.lastSeenAt} /> : 'never'}</td>
              <td>{d.expectedIntervalS} s</td>
              <td>{d.battery === undefined ? '–' : `${Math.round(d.battery)} %`}</td>
              <td>{d.firmware ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The last few resolved alarms: what happened recently, with how each ended. */
export function RecentlyResolved({ patientId, openCount }: { patientId: string; openCount: number }) {
  const recent = useLoad(
    () =>
      get<{ items: Alarm[] }>(`/api/v1/alarms${query({ patient: patientId, state: 'resolved', limit: 5 })}`),
    [patientId, openCount],
  );
  if (!recent.data || recent.data.items.length === 0) return null;
  return (
    <details class="recent-alarms">
      <summary>Recently resolved ({recent.data.items.length})</summary>
      <ul>
        {recent.data.items.map((a) => (
          <li key={a.id}>
            {conditionText(a.condition)} ({a.priority}), resolved <Time at={a.resolvedAt} />
            {a.resolvedBy ? ` by ${a.resolvedBy === 'system' ? 'the platform' : a.resolvedBy}` : ''}
            {a.resolution ? `: ${a.resolution}` : ''}
          </li>
        ))}
      </ul>
    </details>
  );
}
