/**
 * `#/admin/dead-letters` (device messages the platform refused, with the raw payload) and
 * `#/admin/security` (authentication failures, forged or replayed messages, revocations, sign-in lockouts,
 * break-glass): filtered on the platform, newest first, paged.
 */
import { useState } from 'preact/hooks';
import { SelectField, TextField } from '../ui/fields.tsx';
import { Page, Time } from '../ui/kit.tsx';
import { REJECTION_CODES, SECURITY_KINDS, SECURITY_SUBSYSTEMS } from './event-kinds.ts';
import { PageFooter, Table, usePaged } from './paged.tsx';

const options = (any: string, values: readonly string[]) => [
  ['', any] as const,
  ...[...new Set(values)].sort().map((v) => [v, v] as const),
];

interface DeadLetter {
  readonly id: string;
  readonly receivedAt: string;
  readonly via: string;
  readonly deviceId?: string;
  readonly topic?: string;
  readonly reason: string;
  readonly detail: string;
  readonly field?: string;
  readonly payloadBase64: string;
}

interface SecurityEvent {
  readonly id: string;
  readonly at: string;
  readonly kind: string;
  readonly deviceId?: string;
  /** The address of the request or connection that caused it. */
  readonly source?: string;
  /** The part of the platform that raised it (intrusion detection, a device key's enrolment or rotation). */
  readonly subsystem?: string;
  readonly detail: string;
}

/**
 * Device, a kind and (security events) a subsystem, typed freely and applied on submit (each change would
 * ask the platform again).
 */
function useFilters(initial: { device: string; kind: string; subsystem?: string }) {
  const [draft, setDraft] = useState(initial);
  const [applied, setApplied] = useState(initial);
  return {
    draft,
    setDraft,
    applied,
    apply: () => setApplied({ ...draft, device: draft.device.trim() }),
  };
}

function FilterForm(props: {
  label: string;
  kindLabel: string;
  kinds: readonly (readonly [string, string])[];
  subsystems?: readonly (readonly [string, string])[];
  f: ReturnType<typeof useFilters>;
}) {
  const { f } = props;
  return (
    <form
      class="filters"
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        f.apply();
      }}
    >
      <TextField
        label="Device id"
        name="device"
        type="search"
        hint="The whole id, as on the Devices page."
        value={f.draft.device}
        onInput={(v) => f.setDraft({ ...f.draft, device: v })}
      />
      <SelectField
        label={props.kindLabel}
        name="kind"
        value={f.draft.kind}
        options={props.kinds}
        onChange={(v) => f.setDraft({ ...f.draft, kind: v })}
      />
      {props.subsystems ? (
        <SelectField
          label="Subsystem"
          name="subsystem"
          value={f.draft.subsystem ?? ''}
          options={props.subsystems}
          onChange={(v) => f.setDraft({ ...f.draft, subsystem: v })}
        />
      ) : null}
      <button type="submit">Apply filters</button>
    </form>
  );
}

const byteLength = (b64: string) => Math.floor((b64.replace(/=+$/, '').length * 3) / 4);

export function DeadLetters() {
  const f = useFilters({ device: '', kind: '' });
  const list = usePaged<DeadLetter>('/api/v1/admin/dead-letters', {
    device: f.applied.device,
    reason: f.applied.kind,
  });
  return (
    <Page title="Dead letters">
      <p>
        Device messages the platform refused, with why. Refusals that look like an attack are also security
        events.
      </p>
      <FilterForm
        label="Filter dead letters"
        kindLabel="Reason"
        kinds={options('Any reason', REJECTION_CODES)}
        f={f}
      />
      <Table
        caption="Dead letters, newest first"
        head={['Received', 'Device', 'Reason', 'Detail', 'Payload']}
        testId="dead-letter-table"
      >
        {list.items.map((d) => (
          <tr key={d.id} data-testid="dead-letter-row" data-reason={d.reason}>
            <td>
              <Time at={d.receivedAt} />
              <div class="hint">via {d.via}</div>
            </td>
            <td>{d.deviceId ? <code>{d.deviceId}</code> : <span class="hint">unknown</span>}</td>
            <td>
              <code>{d.reason}</code>
            </td>
            <td>
              {d.detail}
              {d.field ? (
                <div class="hint">
                  field <code>{d.field}</code>
                </div>
              ) : null}
              {d.topic ? (
                <div class="hint">
                  topic <code>{d.topic}</code>
                </div>
              ) : null}
            </td>
            <td>
              <details>
                <summary>{byteLength(d.payloadBase64)} bytes</summary>
                <pre class="mono wrap payload">{d.payloadBase64}</pre>
              </details>
            </td>
          </tr>
        ))}
      </Table>
      {!list.loading && list.items.length === 0 ? (
        <p>No dead letters{f.applied.device || f.applied.kind ? ' match the filters' : ''}.</p>
      ) : null}
      <PageFooter list={list} what="dead letters" />
    </Page>
  );
}

export function SecurityEvents() {
  const f = useFilters({ device: '', kind: '', subsystem: '' });
  const list = usePaged<SecurityEvent>('/api/v1/admin/security-events', {
    device: f.applied.device,
    kind: f.applied.kind,
    subsystem: f.applied.subsystem ?? '',
  });
  return (
    <Page title="Security events">
      <FilterForm
        label="Filter security events"
        kindLabel="Kind"
        kinds={options('Any kind', SECURITY_KINDS)}
        subsystems={options('Any subsystem', SECURITY_SUBSYSTEMS)}
        f={f}
      />
      <Table
        caption="Security events, newest first"
        head={['When', 'Kind', 'Device', 'Source', 'Subsystem', 'Detail']}
        testId="security-event-table"
      >
        {list.items.map((e) => (
          <tr key={e.id} data-testid="security-event-row" data-kind={e.kind}>
            <td>
              <Time at={e.at} />
            </td>
            <td>
              <code>{e.kind}</code>
            </td>
            <td>{e.deviceId ? <code>{e.deviceId}</code> : '–'}</td>
            <td>{e.source ?? '–'}</td>
            <td>{e.subsystem ?? '–'}</td>
            <td>{e.detail}</td>
          </tr>
        ))}
      </Table>
      {!list.loading && list.items.length === 0 ? (
        <p>
          No security events
          {f.applied.device || f.applied.kind || f.applied.subsystem ? ' match the filters' : ''}.
        </p>
      ) : null}
      <PageFooter list={list} what="events" />
    </Page>
  );
}
