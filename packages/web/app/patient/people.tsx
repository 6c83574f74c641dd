/**
 * Whose health the patient-side screens show: a patient sees themselves; a caregiver picks one of the
 * patients who granted them access (the census lists exactly those the caller may see). The choice is kept
 * while moving between screens.
 */
import { useState } from 'preact/hooks';
import { get, type Me } from '../api.ts';
import { type Loaded, useLoad } from '../ui/async.ts';
import { SelectField } from '../ui/fields.tsx';
import { ErrorNotice, Loading } from '../ui/kit.tsx';

/** A row of `GET /api/v1/census`. */
export interface CensusRow {
  readonly patientId: string;
  readonly displayName?: string;
  readonly news2?: {
    readonly total: number;
    readonly band?: string;
    readonly complete?: boolean;
    readonly missing?: readonly string[];
    readonly at: string;
  };
  readonly vitals: Readonly<
    Record<string, { readonly value: number; readonly unit?: string; readonly at: string }>
  >;
  readonly alarms?: { readonly total: number };
}

export interface PatientOption {
  readonly id: string;
  readonly label: string;
  readonly self: boolean;
}

export interface PatientChoice {
  readonly census: Loaded<readonly CensusRow[]>;
  readonly options: readonly PatientOption[];
  readonly chosen: PatientOption | undefined;
  choose(id: string): void;
}

let remembered: string | undefined;

export function usePatientChoice(me: Me): PatientChoice {
  const census = useLoad(
    async () => (await get<{ items: CensusRow[] }>('/api/v1/census')).items,
    [me.userId],
  );
  const [picked, setPicked] = useState<string | undefined>(remembered);
  const options: PatientOption[] = [];
  if (me.patientId)
    options.push({
      id: me.patientId,
      label: `You${me.displayName ? ` (${me.displayName})` : ''}`,
      self: true,
    });
  for (const row of census.data ?? [])
    if (row.patientId !== me.patientId)
      options.push({ id: row.patientId, label: row.displayName ?? `Patient ${row.patientId}`, self: false });
  const chosen = options.find((o) => o.id === picked) ?? options[0];
  return {
    census,
    options,
    chosen,
    choose: (id) => {
      remembered = id;
      setPicked(id);
    },
  };
}

/** The picker (only when there is a choice), or why there is nothing to show. */
export function PatientPicker({ me, choice }: { me: Me; choice: PatientChoice }) {
  if (choice.options.length === 0) {
    if (choice.census.loading) return <Loading what="the people you care for" />;
    if (choice.census.error) return <ErrorNotice error={choice.census.error} />;
    return <NobodyShared me={me} />;
  }
  if (choice.options.length === 1) return null;
  return (
    <div class="patient-picker" data-testid="patient-picker">
      <SelectField
        label="Whose health to show"
        name="patient"
        value={choice.chosen?.id ?? ''}
        onChange={choice.choose}
        options={choice.options.map((o) => [o.id, o.label] as const)}
      />
    </div>
  );
}

/** A caregiver nobody has shared with yet: what to tell the patient so they can. */
export function NobodyShared({ me }: { me: Me }) {
  return (
    <div class="panel" data-testid="nobody-shared">
      <p>No one has shared their health data with you yet.</p>
      <p>
        To share with you, the patient adds you as a caregiver on their Consent screen: they find you by your
        username,{' '}
        <code class="secret" data-testid="my-username">
          {me.username}
        </code>
      </p>
    </div>
  );
}
