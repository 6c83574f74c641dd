/**
 * One open alarm with what can be done about it: acknowledge, snooze, assign (to me or someone), escalate,
 * resolve, with an optional reason recorded on the transition; and its history on demand. An action that
 * no longer applies (someone else was quicker) comes back as 409 and is shown as the platform says it.
 */
import { useId, useState } from 'preact/hooks';
import { get, type Me, post } from '../api.ts';
import { href } from '../router.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading, PriorityBadge, StatusBadge, Time } from '../ui/kit.tsx';
import { alarmFeed } from './alarm-feed.ts';
import { type Alarm, type AlarmTransition, conditionText, snoozeChoices } from './alarms-model.ts';
import { nameOf } from './census-cache.ts';

type Action = 'acknowledge' | 'assign' | 'snooze' | 'escalate' | 'resolve';

export function AlarmItem({
  alarm,
  me,
  now,
  showPatient,
}: {
  alarm: Alarm;
  me: Me;
  now: number;
  showPatient: boolean;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const choices = snoozeChoices(alarm);
  const [snoozeMin, setSnoozeMin] = useState(String(choices[choices.length - 1]));
  const [assignee, setAssignee] = useState('');
  const [showHistory, setShowHistory] = useState(false);
  const act = useAction(async (action: Action, extra: Record<string, unknown> = {}) => {
    const body = { ...extra, ...(reason.trim() ? { reason: reason.trim() } : {}) };
    const updated = await post<Alarm>(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/${action}`, body);
    setReason('');
    if (action === 'assign') setAssignee('');
    alarmFeed.applyLocal(updated);
  });
  const condition = conditionText(alarm.condition);
  const active = alarm.state === 'active';
  const snoozed = alarm.snoozedUntil !== undefined && alarm.snoozedUntil > now;
  const assignedTo = alarm.assignee === me.userId ? 'you' : alarm.assignee;

  return (
    <li
      class={`alarm-item alarm-${alarm.priority} alarm-state-${alarm.state}`}
      data-testid="alarm-row"
      data-alarm-id={alarm.id}
      data-condition={alarm.condition}
      data-patient-id={alarm.patientId}
      data-priority={alarm.priority}
      data-state={alarm.state}
      aria-labelledby={`${id}-title`}
    >
      <div class="alarm-head">
        <PriorityBadge priority={alarm.priority} />
        <h3 id={`${id}-title`} class="alarm-title">
          {condition}
          {showPatient ? (
            <>
              {' — '}
              <a href={href('patients', alarm.patientId)}>{nameOf(alarm.patientId)}</a>
            </>
          ) : null}
        </h3>
        <StatusBadge status={alarm.state} />
      </div>
      <p class="alarm-facts">
        <span>
          Raised <Time at={alarm.raisedAt} />
        </span>
        <span>{alarm.category === 'technical' ? 'Technical' : 'Physiological'}</span>
        {alarm.conditionPresent ? (
          <span>Condition still present</span>
        ) : (
          <span class="alarm-cleared">
            Condition cleared <Time at={alarm.clearedAt} />
            {alarm.policy?.autoResolve === false ? ': resolve it when reviewed' : ''}
          </span>
        )}
        {snoozed ? (
          <span>
            Snoozed until <Time at={alarm.snoozedUntil} />
          </span>
        ) : null}
        {alarm.escalationLevel > 0 ? <span>Escalation level {alarm.escalationLevel}</span> : null}
        {assignedTo ? <span>Assigned to {assignedTo}</span> : <span>Not assigned</span>}
        {alarm.acknowledgedBy && alarm.state === 'acknowledged' ? (
          <span>Acknowledged by {alarm.acknowledgedBy === me.userId ? 'you' : alarm.acknowledgedBy}</span>
        ) : null}
      </p>
      <fieldset class="alarm-actions">
        <legend class="visually-hidden">Actions for {condition}</legend>
        <div class="field alarm-reason">
          <label for={`${id}-reason`}>Reason (optional)</label>
          <input
            id={`${id}-reason`}
            value={reason}
            maxLength={500}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="alarm-buttons">
          {active ? (
            <button
              type="button"
              class="primary"
              disabled={act.busy}
              onClick={() => void act.run('acknowledge')}
            >
              Acknowledge
            </button>
          ) : null}
          {active ? (
            <span class="snooze">
              <label for={`${id}-snooze`}>Snooze minutes</label>
              <select
                id={`${id}-snooze`}
                value={snoozeMin}
                onChange={(e) => setSnoozeMin((e.target as HTMLSelectElement).value)}
              >
                {choices.map((m) => (
                  <option key={m} value={String(m)}>
                    {m}
                  </option>
                ))}
              </select>
              <button
                type="button"
                disabled={act.busy}
                onClick={() => void act.run('snooze', { durationS: Number(snoozeMin) * 60 })}
              >
                Snooze
              </button>
            </span>
          ) : null}
          {alarm.assignee !== me.userId ? (
            <button
              type="button"
              disabled={act.busy}
              onClick={() => void act.run('assign', { assignee: me.userId })}
            >
              Assign to me
            </button>
          ) : null}
          <button type="button" disabled={act.busy} onClick={() => void act.run('escalate')}>
            Escalate
          </button>
          <button type="button" class="danger" disabled={act.busy} onClick={() => void act.run('resolve')}>
            Resolve
          </button>
        </div>
        <form
          class="assign-other"
          onSubmit={(e) => {
            e.preventDefault();
            if (assignee.trim()) void act.run('assign', { assignee: assignee.trim() });
          }}
        >
          <label for={`${id}-assignee`}>Assign to user id</label>
          <input
            id={`${id}-assignee`}
            value={assignee}
            autoComplete="off"
            onInput={(e) => setAssignee((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={act.busy || !assignee.trim()}>
            Assign
          </button>
        </form>
      </fieldset>
      <ErrorNotice error={act.error} />
      <button
        type="button"
        class="link-button"
        aria-expanded={showHistory}
        aria-controls={`${id}-history`}
        onClick={() => setShowHistory(!showHistory)}
      >
        {showHistory ? 'Hide history' : 'Show history'}
      </button>
      <div id={`${id}-history`}>
        {showHistory ? <History alarmId={alarm.id} version={alarm.updatedAt} me={me} /> : null}
      </div>
    </li>
  );
}

function History({ alarmId, version, me }: { alarmId: string; version: number; me: Me }) {
  const h = useLoad(
    () => get<Alarm & { transitions: AlarmTransition[] }>(`/api/v1/alarms/${encodeURIComponent(alarmId)}`),
    [alarmId, version],
  );
  if (h.error) return <ErrorNotice error={h.error} />;
  if (!h.data) return <Loading what="the history" />;
  return (
    <ol class="alarm-history" aria-label="History">
      {h.data.transitions.map((t, i) => (
        <li key={i}>
          <Time at={t.at} /> <strong>{t.event.replace(/-/g, ' ')}</strong> by{' '}
          {t.by === me.userId ? 'you' : t.by === 'system' ? 'the platform' : t.by}
          {t.from && t.from !== t.to ? ` (${t.from} → ${t.to})` : ''}
          {t.reason ? `: ${t.reason}` : ''}
        </li>
      ))}
    </ol>
  );
}
