/**
 * One open alarm with what can be done about it: acknowledge, snooze, assign (to me, or to a colleague
 * chosen by name), escalate, resolve, with an optional reason recorded on the transition; and its history
 * on demand. People are named, not shown by user id. An action that no longer applies (someone else was
 * quicker) comes back as 409, and a colleague who may not take the alarm as 400; both are shown as the
 * platform says them.
 */
import { useId, useState } from 'preact/hooks';
import { get, type Me, post } from '../api.ts';
import { href } from '../router.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading, PriorityBadge, StatusBadge, Time } from '../ui/kit.tsx';
import { usePeopleNames } from '../ui/person-names.tsx';
import { type Person, PersonPicker } from '../ui/person-picker.tsx';
import { nameOrId, type PeopleNames } from '../ui/person-search.ts';
import { alarmFeed } from './alarm-feed.ts';
import { type Alarm, type AlarmTransition, conditionText, snoozeChoices } from './alarms-model.ts';
import { nameOf } from './census-cache.ts';

type Action = 'acknowledge' | 'assign' | 'snooze' | 'escalate' | 'resolve';

export function AlarmItem({
  alarm,
  me,
  now,
  showPatient,
  names,
}: {
  alarm: Alarm;
  me: Me;
  now: number;
  showPatient: boolean;
  /** The people the alarms name (assignees, who acknowledged), as the list looked them up. */
  names?: PeopleNames | undefined;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const choices = snoozeChoices(alarm);
  const [snoozeMin, setSnoozeMin] = useState(String(choices[choices.length - 1]));
  const [assignee, setAssignee] = useState<Person | undefined>(undefined);
  /** A new picker (empty) after each assignment. */
  const [round, setRound] = useState(0);
  const [showHistory, setShowHistory] = useState(false);
  const act = useAction(async (action: Action, extra: Record<string, unknown> = {}) => {
    const body = { ...extra, ...(reason.trim() ? { reason: reason.trim() } : {}) };
    const updated = await post<Alarm>(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/${action}`, body);
    setReason('');
    if (action === 'assign') {
      setAssignee(undefined);
      setRound((r) => r + 1);
    }
    alarmFeed.applyLocal(updated);
  });
  const condition = conditionText(alarm.condition);
  const active = alarm.state === 'active';
  const snoozed = alarm.snoozedUntil !== undefined && alarm.snoozedUntil > now;
  const person = (userId: string) => (userId === me.userId ? 'you' : nameOrId(userId, names));
  const assignedTo = alarm.assignee === undefined ? undefined : person(alarm.assignee);

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
          <span>Acknowledged by {person(alarm.acknowledgedBy)}</span>
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
          aria-label={`Assign ${condition} to a colleague`}
          onSubmit={(e) => {
            e.preventDefault();
            if (assignee) void act.run('assign', { assignee: assignee.id });
          }}
        >
          <PersonPicker
            key={round}
            label="Assign to a colleague"
            name="assignee"
            roles={['clinician', 'nurse']}
            exclude={[me.userId, ...(alarm.assignee === undefined ? [] : [alarm.assignee])]}
            chosen={assignee}
            onChoose={setAssignee}
            hint="Type part of their name or username."
            error={act.error}
            testId="assignee-picker"
          />
          <button type="submit" disabled={act.busy || !assignee}>
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
  const names = usePeopleNames(h.data ? peopleNamedBy(h.data.transitions.map((t) => t.by)) : undefined);
  if (h.error) return <ErrorNotice error={h.error} />;
  if (!h.data) return <Loading what="the history" />;
  return (
    <ol class="alarm-history" aria-label="History">
      {h.data.transitions.map((t, i) => (
        <li key={i}>
          <Time at={t.at} /> <strong>{t.event.replace(/-/g, ' ')}</strong> by{' '}
          {t.by === me.userId ? 'you' : t.by === 'system' ? 'the platform' : nameOrId(t.by, names)}
          {t.from && t.from !== t.to ? ` (${t.from} → ${t.to})` : ''}
          {t.reason ? `: ${t.reason}` : ''}
        </li>
      ))}
    </ol>
  );
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user ids among actors and assignees (the platform and service credentials are not people). */
export const peopleNamedBy = (ids: Iterable<string | undefined>): string[] =>
  [...new Set(ids)].filter((id): id is string => id !== undefined && USER_ID.test(id));
