/**
 * `#/admin/audit`: the audit log (every access to patient data, newest first, filtered and paged) and its
 * verification against the signed tree heads kept outside the database (what `openiomt audit verify`
 * checks). `#/admin/audit/break-glass` lists emergency openings; erasure requests are in erasure.tsx.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { SelectField, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page, Time } from '../ui/kit.tsx';
import { PageFooter, SubNav, Table, usePaged } from './paged.tsx';

export const AUDIT_TABS = [
  ['admin/audit', 'Audit log'],
  ['admin/audit/erasure-requests', 'Erasure requests'],
  ['admin/audit/break-glass', 'Break-glass'],
] as const;

const ACTIONS = [
  'read',
  'search',
  'create',
  'update',
  'delete',
  'export',
  'act',
  'denied',
  'break-glass',
  'login',
  'logout',
];

interface AuditRecord {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly actorRole?: string;
  readonly action: string;
  readonly outcome: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly patientId?: string;
  readonly reason?: string;
  readonly source?: string;
  readonly leafIndex?: number;
}

/** `POST /api/v1/admin/audit/verify`. */
interface VerifyResult {
  readonly ok: boolean;
  readonly summary: string;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly records: number;
  readonly treeSize: number;
  readonly latest?: { readonly treeSize: number; readonly timestamp: string };
}

export function AuditLog() {
  const [draft, setDraft] = useState({ patient: '', actor: '', action: '' });
  const [applied, setApplied] = useState(draft);
  const list = usePaged<AuditRecord>('/api/v1/admin/audit', applied);
  return (
    <Page title="Audit">
      <SubNav label="Audit" items={AUDIT_TABS} current="admin/audit" />
      <Verify />
      <h2>Recent records</h2>
      <form
        class="filters"
        aria-label="Filter audit records"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ patient: draft.patient.trim(), actor: draft.actor.trim(), action: draft.action });
        }}
      >
        <TextField
          label="Patient id"
          name="patient"
          type="search"
          value={draft.patient}
          onInput={(v) => setDraft({ ...draft, patient: v })}
          error={list.error}
        />
        <TextField
          label="Actor (user or device id)"
          name="actor"
          type="search"
          value={draft.actor}
          onInput={(v) => setDraft({ ...draft, actor: v })}
          error={list.error}
        />
        <SelectField
          label="Action"
          name="action"
          value={draft.action}
          options={[['', 'Any action'], ...ACTIONS.map((a) => [a, a] as const)]}
          onChange={(v) => setDraft({ ...draft, action: v })}
          error={list.error}
        />
        <button type="submit">Apply filters</button>
      </form>
      <Table
        caption="Audit records, newest first"
        head={['When', 'Who', 'Action', 'Outcome', 'What', 'Patient', 'Why', 'Leaf']}
        testId="audit-table"
      >
        {list.items.map((r) => (
          <tr key={r.id} data-testid="audit-row" data-action={r.action} data-outcome={r.outcome}>
            <td>
              <Time at={r.at} />
            </td>
            <td>
              <code>{r.actor}</code>
              {r.actorRole ? <div class="hint">{r.actorRole}</div> : null}
              {r.source ? <div class="hint">from {r.source}</div> : null}
            </td>
            <td>{r.action}</td>
            <td>
              <span class={`badge outcome-${r.outcome}`}>{r.outcome}</span>
            </td>
            <td>
              {r.resourceType ?? '–'}
              {r.resourceId ? (
                <div class="hint">
                  <code>{r.resourceId}</code>
                </div>
              ) : null}
            </td>
            <td>{r.patientId ? <code>{r.patientId}</code> : '–'}</td>
            <td>{r.reason ?? '–'}</td>
            <td>{r.leafIndex ?? <span class="hint">waiting</span>}</td>
          </tr>
        ))}
      </Table>
      <PageFooter list={list} what="records" />
    </Page>
  );
}

function Verify() {
  const [result, setResult] = useState<VerifyResult | undefined>();
  const verify = useAction(async () => {
    setResult(undefined);
    setResult(await post<VerifyResult>('/api/v1/admin/audit/verify', {}));
  });
  return (
    <section class="panel" aria-labelledby="verify-title">
      <h2 id="verify-title">Is the log intact?</h2>
      <p>
        Checks every record against the signed tree heads kept outside the database: a record changed,
        deleted, moved or cut off after it was logged is found and named.
      </p>
      <button
        type="button"
        class="primary"
        onClick={() => void verify.run()}
        disabled={verify.busy}
        data-testid="verify-audit"
      >
        {verify.busy ? 'Verifying…' : 'Verify audit log'}
      </button>
      <ErrorNotice error={verify.error} />
      <div role="status" aria-live="polite">
        {result ? (
          <div
            class={`verify-result ${result.ok ? 'notice notice-ok' : 'notice notice-error'}`}
            data-testid="audit-verify-result"
            data-ok={String(result.ok)}
          >
            <p>
              <strong>
                {result.ok
                  ? '✓ Verified: the audit log is intact.'
                  : `✕ Verification failed: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}.`}
              </strong>
            </p>
            {result.ok ? (
              <p>
                {result.records} records
                {result.latest ? (
                  <>
                    , last signed tree head of {result.latest.treeSize} at{' '}
                    {new Date(result.latest.timestamp).toLocaleString()}
                  </>
                ) : null}
                .
              </p>
            ) : (
              <ul>
                {result.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            )}
            {result.warnings.length > 0 ? (
              <>
                <p>Notes (not tampering):</p>
                <ul>
                  {result.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </>
            ) : null}
            <details>
              <summary>As the command line prints it</summary>
              <pre class="mono wrap">{result.summary}</pre>
            </details>
          </div>
        ) : null}
      </div>
    </section>
  );
}

interface BreakGlass {
  readonly id: string;
  readonly userId: string;
  readonly patientId: string;
  readonly reason: string;
  readonly openedAt: string;
  readonly until: string;
  readonly closedAt?: string;
}

export function BreakGlassList() {
  const list = useLoad(
    async () => (await get<{ items: BreakGlass[] }>('/api/v1/admin/break-glass')).items,
    [],
  );
  const now = Date.now();
  return (
    <Page title="Audit">
      <SubNav label="Audit" items={AUDIT_TABS} current="admin/audit/break-glass" />
      <h2>Break-glass openings</h2>
      <p>
        Emergency access by clinicians and nurses outside a patient's care team or consent. Check each reason.
      </p>
      <ErrorNotice error={list.error} />
      {list.loading && !list.data ? <Loading what="break-glass openings" /> : null}
      <Table
        caption="Break-glass openings"
        head={['Opened', 'By', 'Patient', 'Reason', 'State']}
        testId="break-glass-table"
      >
        {(list.data ?? []).map((b) => {
          const open = !b.closedAt && Date.parse(b.until) > now;
          return (
            <tr key={b.id} data-testid="break-glass-row" data-open={String(open)}>
              <td>
                <Time at={b.openedAt} />
              </td>
              <td>
                <code>{b.userId}</code>
              </td>
              <td>
                <code>{b.patientId}</code>
              </td>
              <td>{b.reason}</td>
              <td>
                {open ? (
                  <span class="badge status-open">
                    open until <Time at={b.until} />
                  </span>
                ) : (
                  <span class="badge">ended</span>
                )}
              </td>
            </tr>
          );
        })}
      </Table>
      {list.data?.length === 0 ? <p>No break-glass openings.</p> : null}
    </Page>
  );
}
