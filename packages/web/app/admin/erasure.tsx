/**
 * `#/admin/audit/erasure-requests`: patients' requests to be erased, oldest first (a queue). Completing
 * one erases the patient for good (crypto-shredding); rejecting one tells the patient why. Both need a
 * reason and a confirmation.
 */
import { useState } from 'preact/hooks';
import { post } from '../api.ts';
import { useAction } from '../ui/async.ts';
import { ConfirmDialog, SelectField, TextArea } from '../ui/fields.tsx';
import { ErrorNotice, Page, Time } from '../ui/kit.tsx';
import { AUDIT_TABS } from './audit.tsx';
import { PageFooter, SubNav, Table, usePaged } from './paged.tsx';

interface ErasureRequest {
  readonly id: string;
  readonly patientId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly status: 'pending' | 'completed' | 'rejected';
  readonly reason?: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  readonly decisionReason?: string;
}

type Decision = 'complete' | 'reject';

const STATUS_OPTIONS = [
  ['pending', 'Waiting for a decision'],
  ['completed', 'Completed'],
  ['rejected', 'Rejected'],
  ['', 'All'],
] as const;

export function ErasureRequests() {
  const [status, setStatus] = useState('pending');
  const list = usePaged<ErasureRequest>('/api/v1/admin/erasure-requests', { status });
  const [deciding, setDeciding] = useState<{ request: ErasureRequest; decision: Decision } | undefined>();
  return (
    <Page title="Audit">
      <SubNav label="Audit" items={AUDIT_TABS} current="admin/audit/erasure-requests" />
      <h2>Erasure requests</h2>
      <p>
        Patients' requests to erase their data. Check that no law requires the record to be kept, then
        complete or reject the request; the patient sees the outcome.
      </p>
      <form class="filters" aria-label="Filter erasure requests" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Show"
          name="status"
          value={status}
          options={STATUS_OPTIONS}
          onChange={setStatus}
        />
      </form>
      <Table
        caption="Erasure requests, oldest first"
        head={['Asked', 'Patient', 'Asked by', "Patient's reason", 'Status', 'Decision']}
        testId="erasure-table"
      >
        {list.items.map((r) => (
          <tr key={r.id} data-testid="erasure-row" data-request-id={r.id} data-status={r.status}>
            <td>
              <Time at={r.requestedAt} />
            </td>
            <td>
              <code>{r.patientId}</code>
            </td>
            <td>
              <code>{r.requestedBy}</code>
            </td>
            <td>{r.reason ?? <span class="hint">none given</span>}</td>
            <td>
              <span class={`badge erasure-${r.status}`}>{r.status}</span>
            </td>
            <td>
              {r.status === 'pending' ? (
                <div class="row-actions">
                  <button
                    type="button"
                    class="danger small"
                    onClick={() => setDeciding({ request: r, decision: 'complete' })}
                  >
                    Complete erasure<span class="visually-hidden"> of patient {r.patientId}</span>…
                  </button>
                  <button
                    type="button"
                    class="small"
                    onClick={() => setDeciding({ request: r, decision: 'reject' })}
                  >
                    Reject<span class="visually-hidden"> request of patient {r.patientId}</span>…
                  </button>
                </div>
              ) : (
                <>
                  <Time at={r.decidedAt} />
                  {r.decidedBy ? (
                    <div class="hint">
                      by <code>{r.decidedBy}</code>
                    </div>
                  ) : null}
                  {r.decisionReason ? <div>{r.decisionReason}</div> : null}
                </>
              )}
            </td>
          </tr>
        ))}
      </Table>
      {!list.loading && list.items.length === 0 ? (
        <p>No {status ? `${status} ` : ''}erasure requests.</p>
      ) : null}
      <PageFooter list={list} what="requests" />
      <Decide
        deciding={deciding}
        onClose={() => setDeciding(undefined)}
        onDone={() => {
          setDeciding(undefined);
          list.reload();
        }}
      />
    </Page>
  );
}

function Decide(props: {
  deciding: { request: ErasureRequest; decision: Decision } | undefined;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const d = props.deciding;
  const decide = useAction(async () => {
    if (!d) return;
    await post(`/api/v1/admin/erasure-requests/${encodeURIComponent(d.request.id)}/${d.decision}`, {
      reason: reason.trim(),
    });
    setReason('');
    props.onDone();
  });
  const complete = d?.decision === 'complete';
  return (
    <ConfirmDialog
      open={d !== undefined}
      title={
        complete
          ? `Erase patient ${d?.request.patientId}?`
          : `Reject the request of patient ${d?.request.patientId ?? ''}?`
      }
      confirmLabel={decide.busy ? 'Working…' : complete ? 'Erase for good' : 'Reject request'}
      danger={complete}
      busy={decide.busy}
      onConfirm={() => void decide.run()}
      onCancel={() => {
        decide.clear();
        setReason('');
        props.onClose();
      }}
      testId="erasure-decision-dialog"
    >
      <p>
        {complete
          ? "The patient's key and identity are destroyed: their name, details and messages can never be read again, by anyone. Readings stay under the record id only. This cannot be undone."
          : 'Nothing is erased. The request is closed as rejected, and the patient sees that it was rejected, with your reason.'}
      </p>
      <TextArea
        label="Reason"
        hint={complete ? 'Kept with the request.' : 'Kept with the request; the patient sees it.'}
        name="reason"
        value={reason}
        onInput={setReason}
        required
        maxLength={500}
        error={decide.error}
      />
      <ErrorNotice error={decide.error} />
    </ConfirmDialog>
  );
}
