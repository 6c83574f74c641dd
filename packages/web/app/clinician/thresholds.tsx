/**
 * The patient's alarm limits: every default rule, editable, plus rules for other vital signs; only what
 * differs from the default is saved. A refusal (`/thresholds/2/limit`) is shown on the input it names.
 * Nurses see the limits; only clinicians change them (the platform decides; the form says so).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getTagged, type Me, putIfMatch } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading } from '../ui/kit.tsx';
import {
  type AlarmSettings,
  type Direction,
  type DraftField,
  draftsFrom,
  isDefault,
  locateError,
  type RuleDraft,
  type RulePriority,
  toBody,
} from './thresholds-model.ts';
import { vitalLabel } from './vitals.ts';

const EXTRA_VITALS = [
  'heart-rate',
  'pulse-rate',
  'spo2',
  'respiratory-rate',
  'bp-systolic',
  'bp-diastolic',
  'bp-mean',
  'body-temperature',
];

export function ThresholdsForm({ patientId, me }: { patientId: string; me: Me }) {
  const path = `/api/v1/patients/${encodeURIComponent(patientId)}/alarm-settings`;
  const loaded = useLoad(() => getTagged<AlarmSettings>(path), [path]);
  const settings = { ...loaded, data: loaded.data?.data };
  // The version the form was filled from: a save made on it never overwrites another clinician's.
  const [etag, setEtag] = useState<string | undefined>(undefined);
  const [rows, setRows] = useState<RuleDraft[]>([]);
  const [scale2, setScale2] = useState(false);
  const [rowOf, setRowOf] = useState<readonly number[]>([]);
  const [saved, setSaved] = useState(false);
  const [adding, setAdding] = useState<{ vital: string; direction: Direction }>({
    vital: 'bp-diastolic',
    direction: 'high',
  });
  const mayEdit = me.roles.includes('clinician');

  useEffect(() => {
    if (!settings.data) return;
    setRows(draftsFrom(settings.data));
    setScale2(settings.data.spo2Scale2);
    setEtag(loaded.data?.etag);
  }, [loaded.data]);

  const save = useAction(async () => {
    const { body, rowOf: map } = toBody(rows, scale2);
    setRowOf(map);
    setSaved(false);
    const { data: answer, etag: next } = await putIfMatch<AlarmSettings>(path, body, etag);
    setEtag(next);
    setSaved(true);
    if (answer?.thresholds)
      setRows(draftsFrom({ thresholds: answer.thresholds, defaults: settings.data?.defaults ?? [] }));
  });

  if (settings.error) return <ErrorNotice error={settings.error} />;
  if (!settings.data) return <Loading what="the alarm limits" />;

  const where = save.error ? locateError(save.error.problem.field, rowOf) : {};
  const errorAt = (row: number, input: DraftField) =>
    where.row === row && where.input === input ? save.error?.problem.detail : undefined;
  const update = (i: number, patch: Partial<RuleDraft>) => {
    setSaved(false);
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  };
  const taken = new Set(rows.map((r) => `${r.vital}:${r.direction}`));

  return (
    <form
      class="thresholds"
      aria-label="Alarm limits"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      {!mayEdit ? <p class="hint">Only a clinician can change these limits.</p> : null}
      <fieldset disabled={!mayEdit || save.busy} class="threshold-rows">
        <legend class="visually-hidden">Limits</legend>
        <div class="table-wrap">
          <table class="threshold-table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Limit</th>
                <th scope="col">Hysteresis</th>
                <th scope="col">Priority</th>
                <th scope="col">For seconds</th>
                <th scope="col">Readings in a row</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <RuleRow
                  key={`${r.vital}:${r.direction}`}
                  row={r}
                  rowError={
                    where.row === i && where.input === undefined ? save.error?.problem.detail : undefined
                  }
                  errorAt={(input) => errorAt(i, input)}
                  onChange={(patch) => update(i, patch)}
                  onRemove={r.fallback ? undefined : () => setRows(rows.filter((_, j) => j !== i))}
                />
              ))}
            </tbody>
          </table>
        </div>
        <p class="hint">
          Hysteresis: how far back the value must come before the alarm condition clears. For seconds: how
          long the limit must be crossed (blank: at once). Readings in a row: how many readings (blank: one).
        </p>
      </fieldset>
      <fieldset disabled={!mayEdit || save.busy} class="threshold-extra">
        <legend>Add a limit</legend>
        <label>
          Vital sign{' '}
          <select
            value={adding.vital}
            onChange={(e) => setAdding({ ...adding, vital: (e.target as HTMLSelectElement).value })}
          >
            {EXTRA_VITALS.map((v) => (
              <option key={v} value={v}>
                {vitalLabel(v)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Direction{' '}
          <select
            value={adding.direction}
            onChange={(e) =>
              setAdding({ ...adding, direction: (e.target as HTMLSelectElement).value as Direction })
            }
          >
            <option value="high">high</option>
            <option value="low">low</option>
          </select>
        </label>
        <button
          type="button"
          disabled={taken.has(`${adding.vital}:${adding.direction}`)}
          onClick={() =>
            setRows([
              ...rows,
              { ...adding, limit: '', hysteresis: '0', priority: 'medium', forS: '', consecutive: '' },
            ])
          }
        >
          Add limit
        </button>
      </fieldset>
      <fieldset disabled={!mayEdit || save.busy} class="threshold-scale">
        <legend class="visually-hidden">NEWS2</legend>
        <label class="scale-label">
          <input
            type="checkbox"
            checked={scale2}
            aria-invalid={where.input === 'spo2Scale2' ? true : undefined}
            onChange={(e) => {
              setSaved(false);
              setScale2((e.target as HTMLInputElement).checked);
            }}
          />{' '}
          SpO₂ Scale 2 prescribed (target 88–92 %, hypercapnic respiratory failure)
        </label>
        {where.input === 'spo2Scale2' ? <p class="field-error">{save.error?.problem.detail}</p> : null}
      </fieldset>
      {/* Next to the Save button: where the person who pressed it is looking. */}
      {save.error?.status === 412 ? (
        <div class="notice notice-error" role="alert">
          <p>
            Not saved: someone else changed these limits while you were editing. Reload to see theirs, then
            make your change again.
          </p>
          <button
            type="button"
            onClick={() => {
              save.clear();
              loaded.reload();
            }}
          >
            Reload the limits
          </button>
        </div>
      ) : save.error && where.row === undefined && where.input === undefined ? (
        <ErrorNotice error={save.error} />
      ) : null}
      {save.error && where.row !== undefined ? (
        <p class="notice notice-error" role="alert">
          The limits were not saved: {vitalLabel(rows[where.row]?.vital ?? '')} {rows[where.row]?.direction}:{' '}
          {save.error.problem.detail}
        </p>
      ) : null}
      {saved ? (
        <p class="notice notice-ok" role="status">
          Alarm limits saved.
        </p>
      ) : null}
      {mayEdit ? (
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save alarm limits'}
        </button>
      ) : null}
    </form>
  );
}

function RuleRow(props: {
  row: RuleDraft;
  rowError: string | undefined;
  errorAt: (input: DraftField) => string | undefined;
  onChange: (patch: Partial<RuleDraft>) => void;
  onRemove: (() => void) | undefined;
}) {
  const { row } = props;
  const name = `${vitalLabel(row.vital)} ${row.direction}`;
  const base = `thr-${row.vital}-${row.direction}`;
  const cell = (
    field: DraftField,
    label: string,
    control: (id: string, error: string | undefined) => ComponentChildren,
  ) => {
    const error = props.errorAt(field);
    const id = `${base}-${field}`;
    return (
      <td class={error ? 'has-error' : undefined}>
        <label class="visually-hidden" for={id}>
          {`${name} ${label}`}
        </label>
        {control(id, error)}
        {error ? (
          <p class="field-error" id={`${id}-error`}>
            {error}
          </p>
        ) : null}
      </td>
    );
  };
  const num = (field: 'limit' | 'hysteresis' | 'forS' | 'consecutive', label: string) =>
    cell(field, label, (id, error) => (
      <input
        id={id}
        inputMode="decimal"
        size={5}
        value={row[field]}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onInput={(e) => props.onChange({ [field]: (e.target as HTMLInputElement).value })}
      />
    ));
  return (
    <tr
      class={`threshold-row${props.rowError ? ' has-error' : ''}`}
      data-testid="threshold-row"
      data-rule={`${row.vital}:${row.direction}`}
    >
      <th scope="row" class={props.rowError ? 'row-error' : undefined}>
        {name}
        <span class="threshold-origin">
          {isDefault(row) ? 'default' : row.fallback ? 'changed for this patient' : 'this patient only'}
        </span>
        {props.rowError ? <span class="field-error">{props.rowError}</span> : null}
      </th>
      {num('limit', 'limit')}
      {num('hysteresis', 'hysteresis')}
      {cell('priority', 'priority', (id, error) => (
        <select
          id={id}
          value={row.priority}
          aria-invalid={error ? true : undefined}
          onChange={(e) =>
            props.onChange({ priority: (e.target as HTMLSelectElement).value as RulePriority })
          }
        >
          <option value="high">high</option>
          <option value="medium">medium</option>
          <option value="low">low</option>
        </select>
      ))}
      {num('forS', 'for seconds')}
      {num('consecutive', 'readings in a row')}
      <td>
        {row.fallback && !isDefault(row) ? (
          <button type="button" class="link-button" onClick={() => props.onChange(resetTo(row))}>
            Reset<span class="visually-hidden"> {name}</span>
          </button>
        ) : null}
        {props.onRemove ? (
          <button type="button" class="link-button" onClick={props.onRemove}>
            Remove<span class="visually-hidden"> {name}</span>
          </button>
        ) : null}
      </td>
    </tr>
  );
}

function resetTo(row: RuleDraft): Partial<RuleDraft> {
  const f = row.fallback;
  if (!f) return {};
  return {
    limit: String(f.limit),
    hysteresis: String(f.hysteresis),
    priority: f.priority,
    forS: f.forMs === undefined ? '' : String(f.forMs / 1000),
    consecutive: f.consecutive === undefined ? '' : String(f.consecutive),
  };
}
