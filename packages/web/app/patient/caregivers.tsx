/**
 * The caregivers a patient shares their data with: who, what, until when; share with someone new (found in
 * the people directory by the username the caregiver sees on their own screen) and stop sharing (with a
 * confirmation). Caregivers are shown by name (the consent page looks them up in the people directory).
 */
import { useState } from 'preact/hooks';
import { del, post } from '../api.ts';
import { type Loaded, useAction } from '../ui/async.ts';
import { CheckboxGroup, ConfirmDialog, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Time } from '../ui/kit.tsx';
import { type PeopleNames, PersonName } from '../ui/person-names.tsx';
import { type Person, PersonPicker } from '../ui/person-picker.tsx';
import {
  activeGrants,
  CATEGORIES,
  CATEGORY_TEXT,
  type Grant,
  grantBody,
  knownCategories,
} from './consent.ts';

const whatText = (g: Grant) =>
  g.categories === undefined
    ? 'Everything a caregiver may see'
    : knownCategories(g.categories)
        .map((c) => CATEGORY_TEXT[c].label)
        .join(', ');

export function Caregivers({
  base,
  grants,
  names,
}: {
  base: string;
  grants: Loaded<Grant[]>;
  names: PeopleNames | undefined;
}) {
  const [revoking, setRevoking] = useState<Grant | undefined>();
  const revoke = useAction(async () => {
    if (!revoking) return;
    await del(`${base}/caregivers/${encodeURIComponent(revoking.id)}`);
    setRevoking(undefined);
    grants.reload();
  });
  const now = Date.now();
  const active = activeGrants(grants.data ?? [], now);
  const past = (grants.data ?? []).filter((g) => !active.includes(g));
  return (
    <section aria-labelledby="caregivers-title" class="caregivers">
      <h2 id="caregivers-title">Caregivers</h2>
      <p>
        A caregiver (family member, friend) can see your readings and alerts and send messages to your care
        team. They cannot change anything.
      </p>
      <ErrorNotice error={grants.error} />
      {grants.loading && !grants.data ? <Loading what="your caregivers" /> : null}
      {grants.data && active.length === 0 ? <p>You do not share with any caregiver.</p> : null}
      <ul class="card-list">
        {active.map((g) => (
          <li key={g.id} class="panel" data-testid="caregiver-row" data-grant-id={g.id}>
            <p>
              <strong>Caregiver</strong> <PersonName id={g.caregiverUserId} names={names} />
            </p>
            <p>Sees: {whatText(g)}</p>
            <p class="hint">
              Since <Time at={g.createdAt} />
              {g.until !== undefined ? (
                <> · until {new Date(g.until).toLocaleDateString()}</>
              ) : (
                ' · until you stop it'
              )}
            </p>
            <button type="button" class="danger" onClick={() => setRevoking(g)}>
              Stop sharing with this caregiver
            </button>
          </li>
        ))}
      </ul>
      {past.length > 0 ? (
        <details>
          <summary>Past caregivers ({past.length})</summary>
          <ul>
            {past.map((g) => (
              <li key={g.id}>
                <PersonName id={g.caregiverUserId} names={names} />: {g.revokedAt ? 'stopped' : 'ended'}{' '}
                <Time at={g.revokedAt ?? g.until} />
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <AddCaregiver base={base} current={active.map((g) => g.caregiverUserId)} onAdded={grants.reload} />
      <ConfirmDialog
        open={revoking !== undefined}
        title="Stop sharing?"
        confirmLabel={revoke.busy ? 'Stopping…' : 'Stop sharing'}
        danger
        busy={revoke.busy}
        onConfirm={() => void revoke.run()}
        onCancel={() => {
          revoke.clear();
          setRevoking(undefined);
        }}
        testId="revoke-caregiver-dialog"
      >
        <p>
          Caregiver {revoking ? <PersonName id={revoking.caregiverUserId} names={names} /> : null} will no
          longer see your data, from now on. You can share with them again later.
        </p>
        <ErrorNotice error={revoke.error} />
      </ConfirmDialog>
    </section>
  );
}

function AddCaregiver(props: { base: string; current: readonly string[]; onAdded: () => void }) {
  const [caregiver, setCaregiver] = useState<Person | undefined>();
  const [missing, setMissing] = useState(false);
  // A new picker after each grant: its text and results start afresh.
  const [round, setRound] = useState(0);
  const [categories, setCategories] = useState<string[]>([...CATEGORIES]);
  const [until, setUntil] = useState('');
  const [done, setDone] = useState<string | undefined>();
  const add = useAction(async () => {
    if (!caregiver) return;
    await post(`${props.base}/caregivers`, grantBody({ userId: caregiver.id, categories, until }));
    setDone(`${caregiver.displayName} (${caregiver.username})`);
    setCaregiver(undefined);
    setRound((r) => r + 1);
    setCategories([...CATEGORIES]);
    setUntil('');
    props.onAdded();
  });
  const noneChosen = categories.length === 0;
  return (
    <form
      class="panel"
      aria-labelledby="add-caregiver-title"
      onSubmit={(e) => {
        e.preventDefault();
        setDone(undefined);
        setMissing(!caregiver);
        if (caregiver && !noneChosen) void add.run();
      }}
    >
      <h3 id="add-caregiver-title">Share with a caregiver</h3>
      <ErrorNotice error={add.error} />
      <PersonPicker
        key={round}
        label="Caregiver"
        name="userId"
        roles={['caregiver']}
        exclude={props.current}
        chosen={caregiver}
        onChoose={(p) => {
          setCaregiver(p);
          if (p) setMissing(false);
        }}
        hint="Type your caregiver's username: they see it on their own OpenIoMT screen."
        localError={missing ? 'Find your caregiver and choose them from the list.' : undefined}
        error={add.error}
        testId="caregiver-picker"
      />
      <CheckboxGroup
        label="What they may see"
        name="categories"
        values={categories}
        onChange={setCategories}
        options={CATEGORIES.map((c) => [c, CATEGORY_TEXT[c].label, CATEGORY_TEXT[c].what] as const)}
        localError={noneChosen ? 'Choose at least one kind of data.' : undefined}
        error={add.error}
      />
      <TextField
        label="Until (optional)"
        name="until"
        type="date"
        value={until}
        onInput={setUntil}
        hint="Leave empty to share until you stop it."
        error={add.error}
      />
      {done ? (
        <p class="notice notice-ok" role="status">
          You now share with caregiver {done}.
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={add.busy || noneChosen}>
        {add.busy ? 'Sharing…' : 'Share'}
      </button>
    </form>
  );
}
