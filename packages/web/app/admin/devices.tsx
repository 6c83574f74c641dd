/**
 * `#/admin/devices`: the fleet with its live status (online, stale, offline, never seen, quarantined,
 * revoked: from when each device was last heard and how often it should report), filters, registering a
 * device (the one-time enrolment code and its QR code), and each device's assignment, re-enrolment,
 * quarantine and revocation.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.ts';
import { useAction } from '../ui/async.ts';
import { SelectField, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Page, Time } from '../ui/kit.tsx';
import { DeviceActions } from './device-actions.tsx';
import { EnrolmentCode } from './enrolment.tsx';
import {
  countByStatus,
  DEVICE_KINDS,
  type Device,
  FLEET_STATUS_MARK,
  FLEET_STATUS_TEXT,
  type FleetFilter,
  type FleetStatus,
  filterFleet,
  fleetStatus,
  intervalText,
  NO_FILTER,
  registerBody,
} from './fleet.ts';
import { PageFooter, Table, usePaged } from './paged.tsx';

export function FleetBadge({ status }: { status: FleetStatus }) {
  return (
    <span class={`badge fleet-${status}`} data-testid="device-status" data-status={status}>
      <span aria-hidden="true">{FLEET_STATUS_MARK[status]} </span>
      {FLEET_STATUS_TEXT[status]}
    </span>
  );
}

type Option = readonly [value: string, label: string];
const STATUS_OPTIONS: Option[] = [
  ['', 'Any status'],
  ...(Object.keys(FLEET_STATUS_TEXT) as FleetStatus[]).map((s): Option => [s, FLEET_STATUS_TEXT[s]]),
];
const KIND_OPTIONS: Option[] = [['', 'Any kind'], ...DEVICE_KINDS.map((k): Option => [k, k])];

export function Devices() {
  // The whole fleet in pages of 1000: status and text filters work on what is loaded.
  const fleet = usePaged<Device>('/api/v1/admin/devices', {}, 1000);
  const [filter, setFilter] = useState<FleetFilter>(NO_FILTER);
  const [open, setOpen] = useState<string | undefined>();
  const now = Date.now();
  const shown = filterFleet(fleet.items, filter, now);
  const counts = countByStatus(fleet.items, now);
  return (
    <Page
      title="Devices"
      actions={
        <button type="button" onClick={fleet.reload} disabled={fleet.loading}>
          Refresh
        </button>
      }
    >
      <RegisterDevice onRegistered={fleet.reload} />
      <p class="fleet-counts" data-testid="fleet-counts">
        {(Object.keys(counts) as FleetStatus[]).map((s) => (
          <span key={s}>
            <FleetBadge status={s} /> {counts[s]}
          </span>
        ))}
      </p>
      <form class="filters" aria-label="Filter devices" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Show status"
          name="status"
          value={filter.status}
          options={STATUS_OPTIONS}
          onChange={(v) => setFilter({ ...filter, status: v as FleetStatus | '' })}
        />
        <SelectField
          label="Show kind"
          name="kind"
          value={filter.kind}
          options={KIND_OPTIONS}
          onChange={(v) => setFilter({ ...filter, kind: v })}
        />
        <TextField
          label="Search devices"
          name="q"
          type="search"
          value={filter.text}
          onInput={(v) => setFilter({ ...filter, text: v })}
          hint="Id, model, manufacturer or firmware."
        />
      </form>
      <Table
        caption="Device fleet"
        head={['Device', 'Status', 'Last seen', 'Battery', 'Firmware', 'Registration', '']}
        testId="device-table"
      >
        {shown.map((d) => {
          const status = fleetStatus(d, now);
          const expanded = open === d.id;
          return (
            <Fragment key={d.id}>
              <tr data-testid="device-row" data-device-id={d.id} data-status={status}>
                <td>
                  <code>{d.id}</code>
                  <div class="hint">
                    {d.kind}
                    {d.model ? ` · ${d.model}` : ''}
                    {d.manufacturer ? ` · ${d.manufacturer}` : ''}
                  </div>
                </td>
                <td>
                  <FleetBadge status={status} />
                </td>
                <td>
                  <Time at={d.lastSeenAt} />
                  <div class="hint">expected {intervalText(d.expectedIntervalS)}</div>
                </td>
                <td>{d.battery === undefined ? '–' : `${d.battery} %`}</td>
                <td>{d.firmware ?? '–'}</td>
                <td>
                  {d.status}
                  {d.revokedReason ? <div class="hint">{d.revokedReason}</div> : null}
                  {d.quarantine && d.status !== 'revoked' ? (
                    <div class="hint" data-testid="quarantine-reason">
                      Quarantined: {d.quarantine.reason}
                    </div>
                  ) : null}
                </td>
                <td>
                  <button
                    type="button"
                    aria-expanded={expanded}
                    aria-controls={`manage-${d.id}`}
                    onClick={() => setOpen(expanded ? undefined : d.id)}
                  >
                    {expanded ? 'Close' : 'Manage'}
                    <span class="visually-hidden"> device {d.id}</span>
                  </button>
                </td>
              </tr>
              {expanded ? (
                <tr class="detail-row">
                  <td colSpan={7} id={`manage-${d.id}`}>
                    <DeviceActions device={d} onChanged={fleet.reload} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </Table>
      {!fleet.loading && shown.length === 0 ? (
        <p>{fleet.items.length === 0 ? 'No devices registered yet.' : 'No device matches the filters.'}</p>
      ) : null}
      <PageFooter list={fleet} what="devices" />
    </Page>
  );
}

interface Registered {
  readonly device: Device;
  readonly enrolmentCode: string;
  readonly enrolmentExpiresAt: string;
}

const EMPTY = { id: '', kind: '', model: '', manufacturer: '', expectedIntervalS: '' };

function RegisterDevice({ onRegistered }: { onRegistered: () => void }) {
  const [form, setForm] = useState(EMPTY);
  const [result, setResult] = useState<Registered | undefined>();
  const register = useAction(async () => {
    const checked = registerBody(form);
    if (!checked.ok)
      throw new ApiError({
        status: 400,
        title: 'Check the form',
        detail: checked.problem,
        field: `/${checked.field}`,
      });
    setResult(await post<Registered>('/api/v1/admin/devices', checked.body));
    setForm(EMPTY);
    onRegistered();
  });
  const set = (k: keyof typeof EMPTY) => (v: string) => setForm({ ...form, [k]: v });
  return (
    <details class="panel register-device" open={result !== undefined}>
      <summary>
        <h2>Register a device</h2>
      </summary>
      {result ? (
        <>
          <EnrolmentCode
            deviceId={result.device.id}
            code={result.enrolmentCode}
            expiresAt={result.enrolmentExpiresAt}
          />
          <button type="button" onClick={() => setResult(undefined)}>
            Register another device
          </button>
        </>
      ) : (
        <form
          aria-label="Register a device"
          onSubmit={(e) => {
            e.preventDefault();
            void register.run();
          }}
        >
          <ErrorNotice error={register.error} />
          <div class="form-grid">
            <TextField
              label="Device id"
              name="id"
              value={form.id}
              onInput={set('id')}
              required
              error={register.error}
              hint="As printed on the device, e.g. its serial number."
            />
            <SelectField
              label="Kind"
              name="kind"
              value={form.kind}
              onChange={set('kind')}
              options={[['', 'Choose…'], ...DEVICE_KINDS.map((k): Option => [k, k])]}
              error={register.error}
            />
            <TextField
              label="Model (optional)"
              name="model"
              value={form.model}
              onInput={set('model')}
              error={register.error}
            />
            <TextField
              label="Manufacturer (optional)"
              name="manufacturer"
              value={form.manufacturer}
              onInput={set('manufacturer')}
              error={register.error}
            />
            <TextField
              label="Reports every (seconds, optional)"
              name="expectedIntervalS"
              type="number"
              inputMode="numeric"
              min={1}
              max={86400}
              value={form.expectedIntervalS}
              onInput={set('expectedIntervalS')}
              error={register.error}
              hint="Drives the stale and offline status."
            />
          </div>
          <button type="submit" class="primary" disabled={register.busy}>
            {register.busy ? 'Registering…' : 'Register and get enrolment code'}
          </button>
        </form>
      )}
    </details>
  );
}
