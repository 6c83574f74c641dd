/**
 * `#/my`: the latest readings as tiles, each with what it means in plain words, then the trends of the
 * last 24 hours or 7 days, and the most recent readings as a list.
 */
import { useState } from 'preact/hooks';
import { get, type Me } from '../api.ts';
import { useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading, Page, Time } from '../ui/kit.tsx';
import { type CensusRow, PatientPicker, usePatientChoice } from './people.tsx';
import { TREND_WINDOWS, type TrendsAnswer, type TrendWindow, trendSummary, trendsPath } from './trend.ts';
import { TrendChart } from './trend-chart.tsx';
import { explain, formatReading, orderedCodes, type Verdict, VITAL_INFO } from './vitals.ts';

interface Tile {
  readonly code: string;
  readonly value: number;
  readonly at: string;
}

const NEWS2_WORDS: Record<string, string> = {
  'respiration-rate': 'breathing rate',
  spo2: 'oxygen saturation',
  'air-or-oxygen': 'whether you breathe extra oxygen',
  'systolic-bp': 'blood pressure',
  pulse: 'pulse',
  consciousness: 'alertness',
  temperature: 'temperature',
};

/** Why there is no early warning score yet, in words. */
export function news2Note(missing: readonly string[]): string {
  const words = missing.map((m) => NEWS2_WORDS[m] ?? m);
  const list = words.length > 0 ? ` Not measured recently: ${words.join(', ')}.` : '';
  return `Your early warning score (NEWS2) needs all of its measurements, so there is no score yet.${list}`;
}

/** The census row as tiles: NEWS2 first, then the vital signs in the usual order. */
export function tilesOf(row: CensusRow | undefined): Tile[] {
  if (!row) return [];
  const values = new Map<string, Tile>();
  // An incomplete NEWS2 is not a score: shown as 0 it would falsely reassure (see news2Note).
  if (row.news2?.complete) values.set('news2', { code: 'news2', value: row.news2.total, at: row.news2.at });
  for (const [code, v] of Object.entries(row.vitals)) values.set(code, { code, value: v.value, at: v.at });
  return orderedCodes(values.keys()).map((c) => values.get(c) as Tile);
}

export function MyHealth({ me }: { me: Me }) {
  const choice = usePatientChoice(me);
  const patient = choice.chosen;
  const row = choice.census.data?.find((r) => r.patientId === patient?.id);
  const tiles = tilesOf(row);
  const title = patient && !patient.self ? `Health of ${patient.label}` : 'My health';
  return (
    <Page
      title={title}
      actions={
        <button type="button" onClick={choice.census.reload} disabled={choice.census.loading}>
          {choice.census.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      <PatientPicker me={me} choice={choice} />
      {patient ? (
        <>
          <section aria-labelledby="latest-title">
            <h2 id="latest-title">Latest readings</h2>
            {choice.census.loading && !choice.census.data ? <Loading what="the latest readings" /> : null}
            <ErrorNotice error={choice.census.error} />
            {choice.census.data && tiles.length === 0 ? (
              <p class="panel" data-testid="no-readings">
                No readings in the last 24 hours. They appear here once a device sends them.
              </p>
            ) : null}
            <ul class="vital-tiles">
              {tiles.map((t) => (
                <VitalTile key={t.code} tile={t} self={patient.self} />
              ))}
            </ul>
            {row?.news2 && !row.news2.complete ? (
              <p class="panel" data-testid="news2-incomplete">
                {news2Note(row.news2.missing ?? [])}
              </p>
            ) : null}
            {tiles.length > 0 ? (
              <p class="hint">
                Usual ranges are for adults at rest. Your care team may have set other targets for you.
              </p>
            ) : null}
          </section>
          <Trends patientId={patient.id} codes={tiles.map((t) => t.code).filter((c) => VITAL_INFO.has(c))} />
          <RecentReadings patientId={patient.id} />
        </>
      ) : null}
    </Page>
  );
}

const VERDICT_MARK: Record<Verdict, string> = { below: '▼', usual: '✓', above: '▲' };

function VitalTile({ tile, self }: { tile: Tile; self: boolean }) {
  const e = explain(tile.code, tile.value);
  return (
    <li class={`vital-tile verdict-${e?.verdict ?? 'none'}`} data-testid="vital-tile" data-code={tile.code}>
      <h3>{e?.title ?? tile.code}</h3>
      <p class="vital-value">{e?.reading ?? formatReading(tile.code, tile.value)}</p>
      {e ? (
        <>
          <p class={`badge verdict verdict-${e.verdict}`}>
            <span aria-hidden="true">{VERDICT_MARK[e.verdict]} </span>
            {e.verdictText}
          </p>
          <p class="vital-sentence">{self ? e.sentence : e.sentence.replace(/^Your /, 'Their ')}</p>
          {e.advice ? <p class="vital-advice">{e.advice}</p> : null}
          <details>
            <summary>What is this?</summary>
            <p>{e.about}</p>
          </details>
        </>
      ) : null}
      <p class="hint">
        Measured <Time at={tile.at} />
      </p>
    </li>
  );
}

function Trends({ patientId, codes }: { patientId: string; codes: string[] }) {
  const [period, setPeriod] = useState<TrendWindow>('24h');
  const key = codes.join(',');
  const trends = useLoad(
    async () =>
      codes.length === 0 ? undefined : get<TrendsAnswer>(trendsPath(patientId, period, codes, Date.now())),
    [patientId, period, key],
  );
  if (codes.length === 0) return null;
  const w = TREND_WINDOWS[period];
  const to = trends.data?.to ? Date.parse(trends.data.to) : Date.now();
  const from = trends.data?.from ? Date.parse(trends.data.from) : to - w.ms;
  return (
    <section aria-labelledby="trends-title" class="trends">
      <div class="section-header">
        <h2 id="trends-title">Trends</h2>
        <fieldset class="segmented">
          <legend class="visually-hidden">Period</legend>
          {(Object.keys(TREND_WINDOWS) as TrendWindow[]).map((k) => (
            <button key={k} type="button" aria-pressed={k === period} onClick={() => setPeriod(k)}>
              {TREND_WINDOWS[k].label}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNotice error={trends.error} />
      {trends.loading && !trends.data ? <Loading what="the trends" /> : null}
      {trends.data ? (
        <div class="trend-list" aria-busy={trends.loading}>
          {codes.map((code) => {
            const points = trends.data?.series[code] ?? [];
            return (
              <section key={code} class="panel trend" aria-label={VITAL_INFO.get(code)?.title ?? code}>
                <h3>{VITAL_INFO.get(code)?.title ?? code}</h3>
                {points.length > 0 ? (
                  <TrendChart
                    code={code}
                    points={points}
                    bucketS={w.bucketS}
                    from={from}
                    to={to}
                    summary={trendSummary(code, points, w.label)}
                  />
                ) : (
                  <p>{trendSummary(code, points, w.label)}</p>
                )}
              </section>
            );
          })}
        </div>
      ) : null}
    </section>
  );
}

interface ObservationBundle {
  readonly entry?: readonly { readonly resource: Observation }[];
}
interface Observation {
  readonly id: string;
  readonly code?: { readonly text?: string; readonly coding?: readonly { readonly display?: string }[] };
  readonly effectiveDateTime?: string;
  readonly valueQuantity?: { readonly value?: number; readonly unit?: string };
  readonly valueCodeableConcept?: { readonly text?: string };
  readonly valueBoolean?: boolean;
  readonly component?: readonly {
    readonly code?: Observation['code'];
    readonly valueQuantity?: Observation['valueQuantity'];
  }[];
}

/** An Observation's value in words: a quantity with its unit, the parts of a blood pressure, a code. */
export function observationValue(o: Observation): string {
  const q = (v: Observation['valueQuantity']) =>
    v?.value === undefined ? '' : `${Number(v.value.toFixed(2))}${v.unit ? ` ${v.unit}` : ''}`;
  if (o.valueQuantity) return q(o.valueQuantity);
  if (o.component?.length)
    return o.component
      .map((c) => q(c.valueQuantity))
      .filter(Boolean)
      .join(' / ');
  if (o.valueCodeableConcept?.text) return o.valueCodeableConcept.text;
  if (o.valueBoolean !== undefined) return o.valueBoolean ? 'yes' : 'no';
  return '–';
}

function RecentReadings({ patientId }: { patientId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details class="recent" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        <h2>Recent readings</h2>
      </summary>
      {open ? <RecentList patientId={patientId} /> : null}
    </details>
  );
}

function RecentList({ patientId }: { patientId: string }) {
  const list = useLoad(
    () => get<ObservationBundle>(`/fhir/R4/Observation?patient=${encodeURIComponent(patientId)}&_count=50`),
    [patientId],
  );
  if (list.error) return <ErrorNotice error={list.error} />;
  if (!list.data) return <Loading what="recent readings" />;
  const rows = (list.data.entry ?? [])
    .map((e) => e.resource)
    .filter((o) => o.valueQuantity || o.component || o.valueCodeableConcept || o.valueBoolean !== undefined);
  if (rows.length === 0) return <p>No readings yet.</p>;
  return (
    <ul class="reading-list">
      {rows.map((o) => (
        <li key={o.id} data-testid="reading-row">
          <span class="reading-what">{o.code?.text ?? o.code?.coding?.[0]?.display ?? 'Reading'}</span>
          <span class="reading-value">{observationValue(o)}</span>
          <span class="hint">
            <Time at={o.effectiveDateTime} />
          </span>
        </li>
      ))}
    </ul>
  );
}
