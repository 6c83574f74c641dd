/**
 * `#/my-data`: download everything the platform holds about me (a FHIR Bundle; the browser saves it with
 * the session cookie), and ask for my data to be erased: what erasure does, a confirmation, and the state
 * of the request afterwards.
 */
import { useState } from 'preact/hooks';
import { ApiError, get, type Me, post } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { TextArea } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page, Time } from '../ui/kit.tsx';

/** `GET|POST /api/v1/patients/{id}/erasure-request`. */
export interface ErasureRequest {
  readonly id: string;
  readonly patientId: string;
  readonly requestedAt: string;
  readonly status: 'pending' | 'completed' | 'rejected';
  readonly reason?: string;
  readonly decidedAt?: string;
  readonly decisionReason?: string;
}

export function MyData({ me }: { me: Me }) {
  const patientId = me.patientId;
  if (!patientId)
    return (
      <Page title="My data">
        <p class="panel">
          Only the patient can download or erase their data. You are signed in as a caregiver.
        </p>
      </Page>
    );
  const base = `/api/v1/patients/${encodeURIComponent(patientId)}`;
  return (
    <Page title="My data">
      <section class="panel" aria-labelledby="download-title">
        <h2 id="download-title">Download a copy of your data</h2>
        <p>
          One file with everything held about you: your details, readings, alerts and messages, in FHIR, the
          format health systems use to exchange records. Another health service can import it.
        </p>
        <a
          class="button primary"
          href={`${base}/export`}
          download={`openiomt-${patientId}.json`}
          data-testid="download-my-data"
        >
          Download my data
        </a>
        <p class="hint">The file can be large. It holds health data: keep it somewhere safe.</p>
      </section>
      <Erasure base={base} />
    </Page>
  );
}

function Erasure({ base }: { base: string }) {
  const latest = useLoad(async () => {
    try {
      return await get<ErasureRequest>(`${base}/erasure-request`);
    } catch (e) {
      // No request yet.
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [base]);
  const [asking, setAsking] = useState(false);
  return (
    <section class="panel" aria-labelledby="erasure-title" data-testid="erasure">
      <h2 id="erasure-title">Erase your data</h2>
      <ErrorNotice error={latest.error} />
      {latest.data === undefined && latest.loading ? <Loading what="your erasure request" /> : null}
      {latest.data ? <RequestStatus request={latest.data} /> : null}
      {latest.data === null || latest.data?.status === 'rejected' ? (
        asking ? (
          <AskErasure
            base={base}
            onCancel={() => setAsking(false)}
            onSent={() => {
              setAsking(false);
              latest.reload();
            }}
          />
        ) : (
          <>
            <p>
              You can ask for your data to be erased. An administrator checks the request (for example that no
              law requires the record to be kept) and then carries it out.
            </p>
            <button type="button" class="danger" onClick={() => setAsking(true)} data-testid="start-erasure">
              Ask to erase my data…
            </button>
          </>
        )
      ) : null}
    </section>
  );
}

const STATUS_TEXT: Record<ErasureRequest['status'], string> = {
  pending: 'Waiting for an administrator',
  completed: 'Done: your data was erased',
  rejected: 'Refused',
};

function RequestStatus({ request }: { request: ErasureRequest }) {
  return (
    <div
      class={`erasure-status erasure-${request.status}`}
      role="status"
      data-testid="erasure-status"
      data-status={request.status}
    >
      <p>
        <strong>Your request: {STATUS_TEXT[request.status]}</strong>
      </p>
      <p class="hint">
        Asked <Time at={request.requestedAt} />
        {request.decidedAt ? (
          <>
            {' '}
            · decided <Time at={request.decidedAt} />
          </>
        ) : null}
      </p>
      {request.reason ? <p>Your reason: {request.reason}</p> : null}
      {request.status === 'pending' ? (
        <p>Nothing is erased until an administrator completes the request. You do not need to do anything.</p>
      ) : null}
      {request.status === 'rejected' && request.decisionReason ? (
        <p>Reason given: {request.decisionReason}</p>
      ) : null}
    </div>
  );
}

function AskErasure({ base, onCancel, onSent }: { base: string; onCancel: () => void; onSent: () => void }) {
  const [reason, setReason] = useState('');
  const [understood, setUnderstood] = useState(false);
  const send = useAction(async () => {
    const r = reason.trim();
    await post(`${base}/erasure-request`, r ? { reason: r } : {});
    onSent();
  });
  return (
    <form
      aria-label="Ask to erase my data"
      onSubmit={(e) => {
        e.preventDefault();
        if (understood) void send.run();
      }}
    >
      <h3>Before you ask</h3>
      <ul class="consequences">
        <li>Your name, date of birth and contact details are destroyed for good.</li>
        <li>Your messages become unreadable, for everyone, for good.</li>
        <li>
          Your readings are kept only under a code that no longer leads to you, as health records may have to
          be kept by law.
        </li>
        <li>This cannot be undone. Download a copy of your data first if you want one.</li>
      </ul>
      <TextArea
        label="Why (optional)"
        name="reason"
        value={reason}
        onInput={setReason}
        maxLength={1000}
        hint="Only the administrator who handles your request reads this."
        error={send.error}
      />
      <label class="choice">
        <input
          type="checkbox"
          name="understood"
          checked={understood}
          onChange={(e) => setUnderstood((e.target as HTMLInputElement).checked)}
        />
        <span>I understand my data will be erased for good once the request is completed.</span>
      </label>
      <ErrorNotice error={send.error} />
      <div class="form-actions">
        <button
          type="submit"
          class="danger"
          disabled={!understood || send.busy}
          data-testid="confirm-erasure"
        >
          {send.busy ? 'Sending…' : 'Send erasure request'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
