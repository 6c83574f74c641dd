/**
 * `#/admin/users/patients`: the patient registry. Register a patient record (its identity is encrypted at
 * rest by the platform), list them, and erase one directly (crypto-shredding; a patient's own request is
 * handled under Audit → Erasure requests).
 */
import { useState } from 'preact/hooks';
import { post } from '../api.ts';
import { useAction } from '../ui/async.ts';
import { ConfirmDialog, TextArea, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Page, Time } from '../ui/kit.tsx';
import type { PatientRecord } from './care-team-patients.ts';
import { forgetPatientSuggestions, PageFooter, SubNav, Table, usePaged } from './paged.tsx';
import { PEOPLE_TABS } from './users.tsx';

export function Patients() {
  const list = usePaged<PatientRecord>('/api/v1/admin/patients', {}, 200);
  const [erasing, setErasing] = useState<PatientRecord | undefined>();
  return (
    <Page title="People">
      <SubNav label="People" items={PEOPLE_TABS} current="admin/users/patients" />
      <RegisterPatient
        onRegistered={() => {
          forgetPatientSuggestions();
          list.reload();
        }}
      />
      <h2>Patient records</h2>
      <Table
        caption="Patient records"
        head={['Id', 'Name', 'Identifier', 'Born', 'Registered', '']}
        testId="patient-table"
      >
        {list.items.map((p) => (
          <tr key={p.id} data-testid="patient-row" data-patient-id={p.id}>
            <td>
              <code>{p.id}</code>
            </td>
            <td>{p.erasedAt ? <em>erased</em> : (p.displayName ?? '–')}</td>
            <td>{p.identifier ?? '–'}</td>
            <td>{p.birthDate ?? '–'}</td>
            <td>
              <Time at={p.createdAt} />
            </td>
            <td>
              {p.erasedAt ? (
                <span class="hint">
                  erased <Time at={p.erasedAt} />
                </span>
              ) : (
                <button type="button" class="danger small" onClick={() => setErasing(p)}>
                  Erase<span class="visually-hidden"> patient {p.id}</span>…
                </button>
              )}
            </td>
          </tr>
        ))}
      </Table>
      <PageFooter list={list} what="patients" />
      <ErasePatient
        patient={erasing}
        onClose={() => setErasing(undefined)}
        onErased={() => {
          setErasing(undefined);
          forgetPatientSuggestions();
          list.reload();
        }}
      />
    </Page>
  );
}

const EMPTY = { id: '', displayName: '', identifier: '', birthDate: '' };

function RegisterPatient({ onRegistered }: { onRegistered: () => void }) {
  const [form, setForm] = useState(EMPTY);
  const [created, setCreated] = useState<string | undefined>();
  const register = useAction(async () => {
    const body = Object.fromEntries(
      Object.entries(form)
        .map(([k, v]) => [k, v.trim()])
        .filter(([, v]) => v !== ''),
    );
    const p = await post<PatientRecord>('/api/v1/admin/patients', body);
    setCreated(p.id);
    setForm(EMPTY);
    onRegistered();
  });
  const set = (k: keyof typeof EMPTY) => (v: string) => setForm({ ...form, [k]: v });
  return (
    <details class="panel">
      <summary>
        <h2>Register a patient</h2>
      </summary>
      <form
        aria-label="Register a patient"
        onSubmit={(e) => {
          e.preventDefault();
          setCreated(undefined);
          void register.run();
        }}
      >
        <ErrorNotice error={register.error} />
        <div class="form-grid">
          <TextField
            label="Record id (optional)"
            name="id"
            value={form.id}
            onInput={set('id')}
            hint="Empty: the platform makes one."
            error={register.error}
          />
          <TextField
            label="Name (optional)"
            name="displayName"
            value={form.displayName}
            onInput={set('displayName')}
            error={register.error}
          />
          <TextField
            label="Identifier (optional)"
            name="identifier"
            value={form.identifier}
            onInput={set('identifier')}
            hint="E.g. the hospital number."
            error={register.error}
          />
          <TextField
            label="Date of birth (optional)"
            name="birthDate"
            type="date"
            value={form.birthDate}
            onInput={set('birthDate')}
            error={register.error}
          />
        </div>
        {created ? (
          <p class="notice notice-ok" role="status" data-testid="patient-registered">
            Registered patient <code>{created}</code>.
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={register.busy}>
          Register patient
        </button>
      </form>
    </details>
  );
}

function ErasePatient(props: {
  patient: PatientRecord | undefined;
  onClose: () => void;
  onErased: () => void;
}) {
  const [reason, setReason] = useState('');
  const erase = useAction(async () => {
    if (!props.patient) return;
    await post(`/api/v1/admin/patients/${encodeURIComponent(props.patient.id)}/erase`, {
      reason: reason.trim(),
    });
    setReason('');
    props.onErased();
  });
  return (
    <ConfirmDialog
      open={props.patient !== undefined}
      title={`Erase patient ${props.patient?.id ?? ''}?`}
      confirmLabel={erase.busy ? 'Erasing…' : 'Erase for good'}
      danger
      busy={erase.busy}
      onConfirm={() => void erase.run()}
      onCancel={() => {
        erase.clear();
        props.onClose();
      }}
      testId="erase-patient-dialog"
    >
      <p>
        The patient's key and identity are destroyed for good: name, details and messages cannot be read again
        by anyone. Readings stay under the id only. This cannot be undone.
      </p>
      <TextArea
        label="Reason"
        name="reason"
        value={reason}
        onInput={setReason}
        required
        maxLength={500}
        hint="E.g. the patient's request of (date), or the retention period ended."
        error={erase.error}
      />
      <ErrorNotice error={erase.error} />
    </ConfirmDialog>
  );
}
