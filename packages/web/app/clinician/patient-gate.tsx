/**
 * Before a patient's screen opens: may I care for this patient? Asked once (the NEWS2 read needs a care
 * relation or an open break-glass, not a particular data category), so someone outside the care team gets one clear
 * refusal, not a screen of empty panels and a stream of refused requests. A clinician or nurse may then
 * open emergency access (break-glass): a reason, a time limit, the privacy officer told, audited apart.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, get, isStaff, type Me, post } from '../api.ts';
import { href } from '../router.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { ErrorNotice, Field, Loading, Page, Select } from '../ui/kit.tsx';

export function PatientGate(props: { me: Me; patientId: string; children: ComponentChildren }) {
  const { me, patientId } = props;
  const access = useLoad(() => get(`/api/v1/patients/${encodeURIComponent(patientId)}/news2`), [patientId]);
  if (access.loading && !access.data && !access.error) return <Loading what="the patient" />;
  if (access.error?.status === 403 || access.error?.status === 404)
    return <Refused me={me} patientId={patientId} error={access.error} onOpened={access.reload} />;
  return <>{props.children}</>;
}

function Refused(props: { me: Me; patientId: string; error: ApiError; onOpened: () => void }) {
  const { me, patientId, error } = props;
  return (
    <Page
      title="No access to this patient"
      actions={
        <a class="button" href={href('census')}>
          Back to census
        </a>
      }
    >
      <div class="notice notice-error" role="alert" data-testid="patient-refused">
        <strong>{error.problem.title}</strong>
        {error.problem.detail ? `: ${error.problem.detail}` : ''}
      </div>
      <p>
        Patient <span class="mono">{patientId}</span> is not in any of your care teams, so the platform does
        not show their data to you.
      </p>
      {isStaff(me) && error.status === 403 ? (
        <BreakGlass patientId={patientId} onOpened={props.onOpened} />
      ) : null}
    </Page>
  );
}

function BreakGlass({ patientId, onOpened }: { patientId: string; onOpened: () => void }) {
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('60');
  const open = useAction(async () => {
    await post(`/api/v1/patients/${encodeURIComponent(patientId)}/break-glass`, {
      reason: reason.trim(),
      minutes: Number(minutes),
    });
    onOpened();
  });
  return (
    <form
      class="panel break-glass"
      aria-label="Emergency access"
      onSubmit={(e) => {
        e.preventDefault();
        void open.run();
      }}
    >
      <h2>Emergency access (break-glass)</h2>
      <p>
        Only when this patient needs you now and cannot wait for a care team to add you. Your access is
        limited in time, the privacy officer is told at once, and everything you open is audited separately.
      </p>
      <ErrorNotice error={open.error} />
      <Field
        label="Reason"
        name="reason"
        value={reason}
        onInput={setReason}
        hint="At least 10 characters: what is happening and why you need the record."
        error={open.error}
        required
      />
      <Select
        label="For"
        name="minutes"
        value={minutes}
        onChange={setMinutes}
        options={[
          ['30', '30 minutes'],
          ['60', '1 hour'],
          ['120', '2 hours'],
          ['240', '4 hours'],
        ]}
      />
      <button type="submit" class="danger" disabled={open.busy}>
        Open emergency access
      </button>
    </form>
  );
}
