/**
 * What an administrator does to one device: assign it to a patient (from now or a given time), end the
 * current assignment, issue a fresh enrolment code, quarantine or release it, revoke it for good (each of
 * the last three with a reason and a confirmation).
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { ConfirmDialog, TextArea, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Time } from '../ui/kit.tsx';
import { EnrolmentCode } from './enrolment.tsx';
import type { Assignment, Device } from './fleet.ts';
import { usePatientSuggestions } from './paged.tsx';

interface DeviceDetail extends Device {
  readonly assignments: readonly Assignment[];
}

export function DeviceActions({ device, onChanged }: { device: Device; onChanged: () => void }) {
  const path = `/api/v1/admin/devices/${encodeURIComponent(device.id)}`;
  const detail = useLoad(() => get<DeviceDetail>(path), [path]);
  const changed = () => {
    detail.reload();
    onChanged();
  };
  if (detail.error) return <ErrorNotice error={detail.error} />;
  if (!detail.data) return <Loading what={`device ${device.id}`} />;
  const history = detail.data.assignments;
  const current = history.find((a) => a.to === undefined || Date.parse(a.to) > Date.now());
  const revoked = device.status === 'revoked';
  return (
    <div class="device-actions" data-testid="device-actions" data-device-id={device.id}>
      <section aria-label="Assignment">
        <h3>Assignment</h3>
        {current ? (
          <Current path={path} assignment={current} onEnded={changed} />
        ) : (
          <p data-testid="no-assignment">Not assigned to a patient.</p>
        )}
        {!current && !revoked ? <Assign path={path} onAssigned={changed} /> : null}
        {history.length > 0 ? (
          <details>
            <summary>Assignment history ({history.length})</summary>
            <ul>
              {history.map((a) => (
                <li key={a.id}>
                  Patient <code>{a.patientId}</code>: {new Date(a.from).toLocaleString()} –{' '}
                  {a.to ? new Date(a.to).toLocaleString() : 'now'}
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </section>
      {revoked ? (
        <p>
          Revoked <Time at={device.revokedAt} />
          {device.revokedReason ? `: ${device.revokedReason}` : ''}. A revoked device cannot enrol again;
          register it under a new id.
        </p>
      ) : (
        <>
          {device.quarantine ? (
            <p data-testid="quarantine-notice">
              Quarantined <Time at={device.quarantine.at} /> by{' '}
              {device.quarantine.by === 'intrusion-detection'
                ? 'intrusion detection'
                : `administrator ${device.quarantine.by}`}
              : {device.quarantine.reason}. Its readings are refused and kept in the dead letters.
            </p>
          ) : null}
          <div class="action-row">
            <NewCode path={path} deviceId={device.id} />
            <Quarantine
              path={path}
              deviceId={device.id}
              release={device.quarantine !== undefined}
              onDone={changed}
            />
            <Revoke path={path} deviceId={device.id} onRevoked={changed} />
          </div>
        </>
      )}
    </div>
  );
}

function Current({
  path,
  assignment,
  onEnded,
}: {
  path: string;
  assignment: Assignment;
  onEnded: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const end = useAction(async () => {
    await post(`${path}/assignments/end`, {});
    setConfirming(false);
    onEnded();
  });
  return (
    <>
      <p data-testid="current-assignment">
        Assigned to patient <code>{assignment.patientId}</code> since{' '}
        {new Date(assignment.from).toLocaleString()}
        {assignment.to ? `, until ${new Date(assignment.to).toLocaleString()}` : ''}.
      </p>
      <button type="button" onClick={() => setConfirming(true)}>
        End assignment
      </button>
      <ConfirmDialog
        open={confirming}
        title="End this assignment?"
        confirmLabel="End assignment now"
        busy={end.busy}
        onConfirm={() => void end.run()}
        onCancel={() => setConfirming(false)}
        testId="end-assignment-dialog"
      >
        <p>
          Readings the device sends from now on are no longer filed under patient{' '}
          <code>{assignment.patientId}</code>; they are refused until it is assigned again.
        </p>
        <ErrorNotice error={end.error} />
      </ConfirmDialog>
    </>
  );
}

function Assign({ path, onAssigned }: { path: string; onAssigned: () => void }) {
  const patients = usePatientSuggestions();
  const [patientId, setPatientId] = useState('');
  const [from, setFrom] = useState('');
  const assign = useAction(async () => {
    await post(`${path}/assignments`, {
      patientId: patientId.trim(),
      ...(from ? { from: new Date(from).toISOString() } : {}),
    });
    setPatientId('');
    setFrom('');
    onAssigned();
  });
  return (
    <form
      class="inline-form"
      aria-label="Assign to a patient"
      onSubmit={(e) => {
        e.preventDefault();
        void assign.run();
      }}
    >
      <ErrorNotice error={assign.error} />
      <TextField
        label="Patient id"
        name="patientId"
        value={patientId}
        onInput={setPatientId}
        suggestions={patients}
        required
        error={assign.error}
      />
      <TextField
        label="From (optional)"
        name="from"
        type="datetime-local"
        value={from}
        onInput={setFrom}
        hint="Empty: from now."
        error={assign.error}
      />
      <button type="submit" class="primary" disabled={assign.busy}>
        Assign
      </button>
    </form>
  );
}

function NewCode({ path, deviceId }: { path: string; deviceId: string }) {
  const [code, setCode] = useState<{ enrolmentCode: string; enrolmentExpiresAt: string } | undefined>();
  const issue = useAction(async () => {
    setCode(await post(`${path}/enrolment-code`, {}));
  });
  return (
    <div>
      <button type="button" onClick={() => void issue.run()} disabled={issue.busy}>
        New enrolment code
      </button>
      <p class="hint">For re-enrolling (e.g. after a reset). The previous code stops working.</p>
      <ErrorNotice error={issue.error} />
      {code ? (
        <EnrolmentCode deviceId={deviceId} code={code.enrolmentCode} expiresAt={code.enrolmentExpiresAt} />
      ) : null}
    </div>
  );
}

/** Quarantine (readings refused and kept, keys stay valid) or its release, with a reason. */
function Quarantine({
  path,
  deviceId,
  release,
  onDone,
}: {
  path: string;
  deviceId: string;
  release: boolean;
  onDone: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const act = useAction(async () => {
    await post(`${path}/${release ? 'release' : 'quarantine'}`, { reason: reason.trim() });
    setOpen(false);
    setReason('');
    onDone();
  });
  const verb = release ? 'Release' : 'Quarantine';
  return (
    <div>
      <button type="button" class={release ? undefined : 'danger'} onClick={() => setOpen(true)}>
        {verb} device…
      </button>
      <ConfirmDialog
        open={open}
        title={`${verb} device ${deviceId}?`}
        confirmLabel={act.busy ? (release ? 'Releasing…' : 'Quarantining…') : verb}
        danger={!release}
        busy={act.busy}
        onConfirm={() => void act.run()}
        onCancel={() => {
          act.clear();
          setOpen(false);
        }}
        testId={release ? 'release-device-dialog' : 'quarantine-device-dialog'}
      >
        <p>
          {release
            ? 'Its readings are accepted again from its next message. Those refused meanwhile stay in the dead letters.'
            : 'Its live connection is closed at once and every reading it sends is refused and kept in the dead letters, until it is released. Its keys stay valid. Clinicians see the device as quarantined.'}{' '}
          A security event is recorded.
        </p>
        <TextArea
          label="Reason"
          name="reason"
          value={reason}
          onInput={setReason}
          required
          maxLength={500}
          hint={
            release ? 'E.g. firmware fixed, checked by biomedical engineering.' : 'E.g. suspected tampering.'
          }
          error={act.error}
        />
        <ErrorNotice error={act.error} />
      </ConfirmDialog>
    </div>
  );
}

function Revoke({ path, deviceId, onRevoked }: { path: string; deviceId: string; onRevoked: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const revoke = useAction(async () => {
    await post(`${path}/revoke`, { reason: reason.trim() });
    setOpen(false);
    setReason('');
    onRevoked();
  });
  return (
    <div>
      <button type="button" class="danger" onClick={() => setOpen(true)}>
        Revoke device…
      </button>
      <ConfirmDialog
        open={open}
        title={`Revoke device ${deviceId}?`}
        confirmLabel={revoke.busy ? 'Revoking…' : 'Revoke for good'}
        danger
        busy={revoke.busy}
        onConfirm={() => void revoke.run()}
        onCancel={() => {
          revoke.clear();
          setOpen(false);
        }}
        testId="revoke-device-dialog"
      >
        <p>
          Its keys stop working and its live connection is closed at once. This cannot be undone: to use the
          device again, register it under a new id. A security event is recorded.
        </p>
        <TextArea
          label="Reason"
          name="reason"
          value={reason}
          onInput={setReason}
          required
          maxLength={256}
          hint="E.g. lost, stolen, faulty, returned."
          error={revoke.error}
        />
        <ErrorNotice error={revoke.error} />
      </ConfirmDialog>
    </div>
  );
}
