/**
 * The strip above every clinician screen: how many alarms need a response (by priority, in words), the
 * alarm stream's state, the sound switch, and the assertive live region that announces new high-priority
 * alarms. The audible signal repeats while an alarm needs a response, until it is acknowledged or snoozed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { href } from '../router.ts';
import type { alarmFeed } from './alarm-feed.ts';
import { alarmSound } from './alarm-sound.ts';
import { repeatSeconds } from './alarm-tones.ts';
import {
  type Alarm,
  type AlarmPriority,
  conditionText,
  loudestPriority,
  needsResponse,
} from './alarms-model.ts';
import { nameOf, serverNow } from './census-cache.ts';
import { statusText } from './live.ts';

type Feed = typeof alarmFeed;

export function AlarmBar({ feed }: { feed: Feed }) {
  const [, setSoundVersion] = useState(0);
  const [announcement, setAnnouncement] = useState<{ text: string; at: number } | undefined>();
  const lastBurst = useRef<Record<AlarmPriority, number>>({ high: 0, medium: 0, low: 0 });

  useEffect(() => alarmSound.subscribe(() => setSoundVersion((v) => v + 1)), []);

  // New or returning high alarms: announce (assertive) and sound at once; others wait for the repeat.
  useEffect(
    () =>
      feed.onNews((news) => {
        const high = news.filter((n) => n.alarm.priority === 'high');
        if (high.length === 0) return;
        setAnnouncement({ text: announce(high.map((n) => n.alarm)), at: Date.now() });
        lastBurst.current.high = Date.now();
        alarmSound.play('high');
      }),
    [feed],
  );

  // The repeat: the loudest alarm that still needs a response plays every 10 s (high) or 25 s (medium).
  useEffect(() => {
    const timer = setInterval(() => {
      const p = loudestPriority(feed.open.values(), serverNow());
      const every = p ? repeatSeconds(p) : undefined;
      if (!p || every === undefined) return;
      if (Date.now() - lastBurst.current[p] < every * 1000) return;
      lastBurst.current[p] = Date.now();
      alarmSound.play(p);
    }, 1000);
    return () => clearInterval(timer);
  }, [feed]);

  const now = serverNow();
  const waiting = { high: 0, medium: 0, low: 0 };
  for (const a of feed.open.values()) if (needsResponse(a, now)) waiting[a.priority]++;
  const total = waiting.high + waiting.medium + waiting.low;

  return (
    <section class={`alarm-bar${waiting.high > 0 ? ' alarm-bar-high' : ''}`} aria-label="Alarm summary">
      <p class="alarm-bar-summary">
        <a href={href('alarms')}>
          {total === 0
            ? 'No alarm needs a response'
            : `${total} alarm${total === 1 ? '' : 's'} need${total === 1 ? 's' : ''} a response`}
        </a>
        {total > 0 ? (
          <span class="alarm-bar-counts">
            {(['high', 'medium', 'low'] as const)
              .filter((p) => waiting[p] > 0)
              .map((p) => (
                <span key={p} class={`badge priority-${p}`}>
                  <span aria-hidden="true">{p === 'high' ? '!!! ' : p === 'medium' ? '!! ' : '! '}</span>
                  {waiting[p]} {p}
                </span>
              ))}
          </span>
        ) : null}
        {feed.status !== 'open' ? (
          <span class="stream-status" role="status">
            Alarm stream: {statusText(feed.status)}
          </span>
        ) : null}
      </p>
      <div class="alarm-bar-sound">
        {alarmSound.supported ? (
          <button
            type="button"
            class={alarmSound.enabled ? 'sound-on' : 'sound-off'}
            aria-pressed={alarmSound.enabled}
            onClick={() => (alarmSound.enabled ? alarmSound.disable() : void alarmSound.enable())}
          >
            <SpeakerIcon on={alarmSound.enabled} /> Alarm sound
            <span aria-hidden="true" class="sound-state">
              {alarmSound.enabled ? ' on' : ' off'}
            </span>
          </button>
        ) : (
          <span class="hint">This browser cannot play alarm sounds.</span>
        )}
        {alarmSound.supported && !alarmSound.enabled ? (
          <span class="hint sound-hint">Sound is off: alarms are only shown.</span>
        ) : null}
      </div>
      <div class="alarm-announcer">
        <p aria-live="assertive" aria-atomic="true" data-testid="alarm-announcer">
          {announcement ? <strong>{announcement.text}</strong> : null}
        </p>
        {announcement ? (
          <button type="button" class="link-button" onClick={() => setAnnouncement(undefined)}>
            Dismiss announcement
          </button>
        ) : null}
      </div>
    </section>
  );
}

function announce(alarms: readonly Alarm[]): string {
  const first = alarms[0] as Alarm;
  const what = `${conditionText(first.condition)}, ${nameOf(first.patientId)}`;
  return alarms.length === 1
    ? `High priority alarm: ${what}.`
    : `${alarms.length} high priority alarms, the first: ${what}.`;
}

/** A speaker with waves (on) or a cross (off); decorative, the button's pressed state says it. */
function SpeakerIcon({ on }: { on: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M3 9v6h4l5 4V5L7 9H3z" fill="currentColor" />
      {on ? (
        <path
          d="M15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12"
          fill="none"
          stroke="currentColor"
          stroke-width="2"
        />
      ) : (
        <path d="M16 9l6 6M22 9l-6 6" fill="none" stroke="currentColor" stroke-width="2" />
      )}
    </svg>
  );
}
