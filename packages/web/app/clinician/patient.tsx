/**
 * `#/patients/<id>`: one patient, live. Vital tiles and NEWS2, the ECG sweep, open alarms with their
 * actions, trends (24 h / 7 days), devices, the alarm limits and the conversation. One `/api/v1/live`
 * socket with this patient's waveforms: waveform chunks go straight into the strip's buffer; everything
 * else is folded into the patient's row once per frame.
 */
import type { ComponentChildren, ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type Me, query } from '../api.ts';
import { href } from '../router.ts';
import { useLoad } from '../ui/async.ts';
import { Loading, Page } from '../ui/kit.tsx';
import { usePeopleNames } from '../ui/person-names.tsx';
import type { alarmFeed } from './alarm-feed.ts';
import { AlarmItem, peopleNamedBy } from './alarm-item.tsx';
import { byInboxOrder } from './alarms-model.ts';
import { cachedRow, loadCensus, serverNow } from './census-cache.ts';
import { applyLive, NO_ALARMS, patientHeading, seenDevice } from './census-model.ts';
import { Conversation } from './conversation.tsx';
import { WaveformChannels } from './ecg-buffer.ts';
import { EcgPanel } from './ecg-panel.tsx';
import { wallNow } from './ecg-strip.ts';
import { browserScheduler, frameBatcher } from './frame-batch.ts';
import { LiveSocket, type StreamStatus, statusText } from './live.ts';
import type { CensusRow, LiveMessage } from './live-types.ts';
import { DeviceTable, type News2Answer, News2Panel, RecentlyResolved, VitalTiles } from './patient-parts.tsx';
import { ThresholdsForm } from './thresholds.tsx';

const TICK_MS = 5000;

const emptyRow = (patientId: string): CensusRow => ({
  patientId,
  vitals: {},
  alarms: NO_ALARMS,
  devices: [],
});

export function PatientScreen({
  me,
  patientId,
  feed,
}: {
  me: Me;
  patientId: string;
  feed: typeof alarmFeed;
}) {
  const row = useRef<CensusRow>(cachedRow(patientId) ?? emptyRow(patientId));
  const [, setVersion] = useState(0);
  const [ready, setReady] = useState(false);
  const [onCensus, setOnCensus] = useState(true);
  const [now, setNow] = useState(serverNow);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const channels = useRef(new WaveformChannels(30));
  const [codes, setCodes] = useState<string[]>([]);
  const [leadOff, setLeadOff] = useState(false);
  const [news2Version, setNews2Version] = useState(0);
  const [Trends, setTrends] = useState<ComponentType<{ patientId: string }> | undefined>();
  const [trendsError, setTrendsError] = useState(false);

  const loadRow = async () => {
    try {
      let c = await loadCensus(ready ? 0 : 30_000);
      // A patient who joined my care since that census was made: ask again rather than show an id.
      if (!c.items.some((r) => r.patientId === patientId) && !ready) c = await loadCensus(0);
      const found = c.items.find((r) => r.patientId === patientId);
      row.current = found ?? row.current;
      setOnCensus(!!found);
    } catch {
      setOnCensus(false);
    }
    setReady(true);
    setVersion((v) => v + 1);
  };

  useEffect(() => {
    void loadRow();
    const t = setInterval(() => setNow(serverNow()), TICK_MS);
    // uPlot only comes with the trends chunk, loaded when a patient is first opened.
    import('./trends.tsx').then(
      (m) => setTrends(() => m.TrendsPanel),
      () => setTrendsError(true),
    );
    return () => clearInterval(t);
  }, []);

  // The live socket opens once the starting values are in, so older census values never overwrite live ones.
  useEffect(() => {
    if (!ready) return;
    const batch = frameBatcher<LiveMessage>((messages) => {
      let next = row.current;
      const seenAt = new Date(serverNow()).toISOString();
      for (const m of messages) {
        next = applyLive(next, m);
        if ((m.type === 'vitals' || m.type === 'waveform') && m.deviceId !== undefined)
          next = seenDevice(next, m.deviceId, seenAt);
        if (m.type === 'derived' && m.leadOff !== undefined && m.code === 'heart-rate') setLeadOff(m.leadOff);
        if (m.type === 'news2') setNews2Version((v) => v + 1);
      }
      if (next !== row.current) {
        row.current = next;
        setVersion((v) => v + 1);
      }
    }, browserScheduler());
    const live = new LiveSocket<LiveMessage>(
      () => `/api/v1/live${query({ patients: patientId, waveforms: patientId })}`,
      {
        message: (m) => {
          if (m.type === 'hello' || ('patientId' in m && m.patientId !== patientId)) return;
          if (m.type === 'waveform' && channels.current.push(m, wallNow()))
            setCodes(channels.current.codes());
          batch.push(m);
        },
        opened: (again) => {
          if (again) void loadRow();
        },
        status: setStatus,
      },
    ).start();
    return () => {
      live.stop();
      batch.cancel();
    };
  }, [ready]);

  const news2 = useLoad(
    () => get<News2Answer>(`/api/v1/patients/${encodeURIComponent(patientId)}/news2`),
    [patientId, news2Version],
  );

  const r = row.current;
  const heading = patientHeading(r, ready);
  const name = heading.text;
  const alarms = [...feed.open.values()].filter((a) => a.patientId === patientId).sort(byInboxOrder(now));
  const names = usePeopleNames(
    feed.loaded ? peopleNamedBy(alarms.flatMap((a) => [a.assignee, a.acknowledgedBy])) : undefined,
  );

  return (
    <Page
      title={name}
      busy={heading.loading}
      actions={
        <a class="button" href={href('census')}>
          Back to census
        </a>
      }
    >
      <p class="patient-sub">
        {r.displayName ? <span class="mono">{patientId}</span> : null}
        <span role="status">
          <span class={`live-dot live-${status}`} aria-hidden="true" /> {statusText(status)}
        </span>
        {ready && !onCensus ? <span class="hint"> Not on your census: devices are not listed.</span> : null}
      </p>
      <nav class="jump-links" aria-label="Sections of this patient">
        {(
          [
            ['vitals', 'Vitals'],
            ['ecg', 'ECG'],
            ['patient-alarms', `Alarms (${alarms.length})`],
            ['trends', 'Trends'],
            ['devices', 'Devices'],
            ['limits', 'Alarm limits'],
            ['conversation', 'Messages'],
          ] as const
        ).map(([id, label]) => (
          <button key={id} type="button" class="link-button" onClick={() => jump(id)}>
            {label}
          </button>
        ))}
      </nav>

      <Section id="vitals" title="Vital signs">
        <VitalTiles row={r} now={now} />
        <News2Panel row={r} detail={news2.data?.score ?? undefined} error={news2.error} />
      </Section>

      <Section id="ecg" title="ECG">
        <EcgPanel channels={channels.current} codes={codes} leadOff={leadOff} />
      </Section>

      <Section id="patient-alarms" title={`Open alarms (${alarms.length})`}>
        {!feed.loaded ? (
          <p class="muted">Alarm stream: {statusText(feed.status)}</p>
        ) : alarms.length === 0 ? (
          <p class="empty">No open alarm.</p>
        ) : (
          <ul class="alarm-list" aria-label={`Open alarms of ${name}`}>
            {alarms.map((a) => (
              <AlarmItem key={a.id} alarm={a} me={me} now={now} showPatient={false} names={names} />
            ))}
          </ul>
        )}
        <RecentlyResolved patientId={patientId} openCount={alarms.length} />
      </Section>

      <Section id="trends" title="Trends">
        {Trends ? (
          <Trends patientId={patientId} />
        ) : trendsError ? (
          <p class="notice notice-error">The charts could not be loaded. Reload the page.</p>
        ) : (
          <Loading what="the charts" />
        )}
      </Section>

      <Section id="devices" title="Devices">
        <DeviceTable row={r} now={now} />
      </Section>

      <Section id="limits" title="Alarm limits">
        <ThresholdsForm patientId={patientId} me={me} />
      </Section>

      <Section id="conversation" title="Messages">
        <Conversation patientId={patientId} patientName={name} me={me} />
      </Section>
    </Page>
  );
}

/** In-page jumps without touching the hash (the hash is the route). */
const jump = (id: string) => {
  const el = document.getElementById(id);
  el?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  el?.focus({ preventScroll: true });
};

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section id={id} class="panel patient-section" aria-labelledby={`${id}-title`} tabIndex={-1}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}
