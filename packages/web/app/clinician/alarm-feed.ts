/**
 * The open alarms of my patients, kept live by one `/api/v1/alarms/stream` for the whole clinician area:
 * the census counts, the inbox, the patient view and the audible signal all read this one set. Changes
 * are applied once per animation frame; news (a new or returning alarm) goes to the announcer.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Alarm, type AlarmNews, type AlarmStreamMessage, foldAlarmMessage } from './alarms-model.ts';
import { loadCensus, nameAll } from './census-cache.ts';
import { browserScheduler, frameBatcher } from './frame-batch.ts';
import { LiveSocket, type StreamStatus } from './live.ts';

type NewsListener = (news: readonly { alarm: Alarm; news: AlarmNews }[]) => void;

class AlarmFeed {
  open: ReadonlyMap<string, Alarm> = new Map();
  status: StreamStatus = 'stopped';
  /** The first snapshot has arrived: counts from here on are the stream's. */
  loaded = false;
  version = 0;
  private socket: LiveSocket<AlarmStreamMessage> | undefined;
  private users = 0;
  private readonly listeners = new Set<() => void>();
  private readonly newsListeners = new Set<NewsListener>();
  private readonly patientsListeners = new Set<() => void>();
  private readonly batch = frameBatcher<AlarmStreamMessage>((ms) => this.apply(ms), browserScheduler());

  /** Starts the stream for a user of it; the returned function stops it when the last one leaves. */
  use(): () => void {
    this.users++;
    if (!this.socket) {
      // No patient parameter: every patient the signed-in person may see (their care teams').
      this.socket = new LiveSocket<AlarmStreamMessage>(() => '/api/v1/alarms/stream', {
        message: (m) => this.batch.push(m),
        status: (s) => {
          this.status = s;
          this.changed();
        },
      }).start();
    }
    return () => {
      if (--this.users > 0) return;
      this.socket?.stop();
      this.socket = undefined;
      this.batch.cancel();
      this.open = new Map();
      this.loaded = false;
      this.changed();
    };
  }

  /** An alarm as an action answered it: shown at once (the stream brings the same version shortly). */
  applyLocal(alarm: Alarm): void {
    this.apply([{ type: 'alarm', alarm, transitions: [], notifications: [] }]);
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  onNews(l: NewsListener): () => void {
    this.newsListeners.add(l);
    return () => this.newsListeners.delete(l);
  }

  /** Called when the patients I may see changed (the stream re-sent its snapshot for it). */
  onPatientsChanged(l: () => void): () => void {
    this.patientsListeners.add(l);
    return () => this.patientsListeners.delete(l);
  }

  private apply(messages: readonly AlarmStreamMessage[]): void {
    const news: { alarm: Alarm; news: AlarmNews }[] = [];
    let open = this.open;
    let patientsChanged = false;
    for (const m of messages) {
      const r = foldAlarmMessage(open, m);
      open = r.open;
      if (m.type === 'snapshot') this.loaded = true;
      if (m.type === 'snapshot' && m.reason === 'patients-changed') patientsChanged = true;
      news.push(...r.news);
    }
    this.open = open;
    this.changed();
    if (news.length > 0) for (const l of this.newsListeners) l(news);
    if (patientsChanged) {
      // The census names my patients: a new one's alarms are shown with their name once it is fetched.
      void loadCensus(0).then(
        () => this.changed(),
        () => undefined,
      );
      for (const l of this.patientsListeners) l();
    } else this.nameTheirPatients(open.values());
  }

  /** Alarms of a patient the census does not name yet (added to my care since): fetch it again. */
  private nameTheirPatients(alarms: Iterable<Alarm>): void {
    const ids = new Set<string>();
    for (const a of alarms) ids.add(a.patientId);
    void nameAll(ids).then(
      (renamed) => {
        if (renamed) this.changed();
      },
      () => undefined,
    );
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}

export const alarmFeed = new AlarmFeed();

/** Re-renders the component when the open alarms or the stream status change. */
export function useAlarmFeed(): AlarmFeed {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const stop = alarmFeed.use();
    const unsubscribe = alarmFeed.subscribe(() => setVersion(alarmFeed.version));
    return () => {
      unsubscribe();
      stop();
    };
  }, []);
  return alarmFeed;
}
