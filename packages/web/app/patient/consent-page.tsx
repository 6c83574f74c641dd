/**
 * `#/consent`: who may see which of the patient's data. Per category: hidden from everyone caring for
 * them, or from particular people (their caregivers, or a clinician or nurse found by name in the people
 * directory); research use on or off; and
 * the caregivers they share with. Every choice says what it means; saving sends the version read, so a
 * change made elsewhere in the meantime is not overwritten. The people named in the consent and the
 * caregivers are shown by name, all looked up in the people directory at once.
 */
import { useState } from 'preact/hooks';
import { get, type Me, put } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { fieldError } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page } from '../ui/kit.tsx';
import { type PeopleNames, usePeopleNames } from '../ui/person-names.tsx';
import { type Person, PersonPicker } from '../ui/person-picker.tsx';
import { nameOrId, personShort } from '../ui/person-search.ts';
import { Caregivers } from './caregivers.tsx';
import {
  activeGrants,
  CATEGORIES,
  CATEGORY_TEXT,
  type Category,
  type Consent,
  type ConsentForm,
  consentFromForm,
  consentSummary,
  formFromConsent,
  type Grant,
  withEveryone,
  withPerson,
} from './consent.ts';

export function ConsentPage({ me }: { me: Me }) {
  const patientId = me.patientId;
  if (!patientId)
    return (
      <Page title="Consent">
        <p class="panel">Only the patient manages who sees their data. You are signed in as a caregiver.</p>
      </Page>
    );
  return <ConsentFor patientId={patientId} />;
}

function ConsentFor({ patientId }: { patientId: string }) {
  const base = `/api/v1/patients/${encodeURIComponent(patientId)}`;
  const consent = useLoad(() => get<Consent>(`${base}/consent`), [patientId]);
  const grants = useLoad(
    async () => (await get<{ items: Grant[] }>(`${base}/caregivers`)).items,
    [patientId],
  );
  const [justSaved, setJustSaved] = useState(false);
  // Everyone the page names by user id, asked once both are loaded (grants failing: the consent's alone).
  const named =
    consent.data && !grants.loading
      ? [
          ...consent.data.restrictions.flatMap((r) => r.recipients ?? []),
          ...(grants.data ?? []).map((g) => g.caregiverUserId),
        ]
      : undefined;
  const names = usePeopleNames(named);
  // People chosen by name on this page: named at once, and still after a save (the editor is made anew).
  const [chosen, setChosen] = useState<ReadonlyMap<string, Person>>(new Map());
  return (
    <Page title="Consent">
      <p>
        You decide who sees your data. Your care team needs most of it to look after you safely, so each
        choice says what hiding it means.
      </p>
      <ErrorNotice error={consent.error} />
      {consent.data ? (
        <ConsentEditor
          key={consent.data.version ?? 0}
          base={base}
          consent={consent.data}
          caregivers={activeGrants(grants.data ?? [], Date.now()).map((g) => g.caregiverUserId)}
          names={names}
          chosen={chosen}
          onChosen={(p) => setChosen((m) => new Map(m).set(p.id, p))}
          justSaved={justSaved}
          onSaved={() => {
            setJustSaved(true);
            consent.reload();
          }}
          onReload={() => {
            setJustSaved(false);
            consent.reload();
          }}
        />
      ) : consent.loading ? (
        <Loading what="your consent" />
      ) : null}
      <Caregivers base={base} grants={grants} names={names} />
    </Page>
  );
}

function ConsentEditor(props: {
  base: string;
  consent: Consent;
  caregivers: readonly string[];
  names: PeopleNames | undefined;
  chosen: ReadonlyMap<string, Person>;
  onChosen: (p: Person) => void;
  /** The consent shown was just saved from here (the editor is made anew for each version). */
  justSaved: boolean;
  onSaved: () => void;
  onReload: () => void;
}) {
  const loaded = formFromConsent(props.consent);
  const [form, setForm] = useState<ConsentForm>(loaded);
  const [others, setOthers] = useState<string[]>([]);
  const save = useAction(async () => {
    await put(`${props.base}/consent`, consentFromForm(form));
    props.onSaved();
  });
  const changed = JSON.stringify(consentFromForm(form)) !== JSON.stringify(consentFromForm(loaded));
  const people = [...new Set([...props.caregivers, ...form.people.map((p) => p.userId), ...others])];
  const caregiverSet = new Set(props.caregivers);
  // By name; someone the directory does not answer by the kind of person and user id, "(not found)".
  const nameOf = (u: string) => {
    const p = props.chosen.get(u);
    if (p) return personShort(p);
    return nameOrId(u, props.names, caregiverSet.has(u) ? `caregiver ${u}` : `user ${u}`);
  };
  const stale = save.error?.status === 409;
  return (
    <form
      class="consent-form"
      aria-label="Your consent"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <div class="panel consent-summary" data-testid="consent-summary">
        <h2>Now</h2>
        <ul>
          {consentSummary(loaded, nameOf).map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      </div>

      <h2>Who sees what</h2>
      <p class="hint">
        In an emergency a doctor or nurse can still open your record; every such opening is recorded and
        checked by the privacy officer.
      </p>
      {CATEGORIES.map((c) => (
        <CategoryChoice key={c} category={c} form={form} people={people} nameOf={nameOf} onChange={setForm} />
      ))}
      <AddPerson
        known={people}
        onAdd={(p) => {
          props.onChosen(p);
          setOthers((o) => [...o, p.id]);
        }}
      />

      <h2>Research</h2>
      <div class="panel">
        <label class="choice">
          <input
            type="checkbox"
            name="researchUse"
            checked={form.researchUse}
            onChange={(e) => setForm({ ...form, researchUse: (e.target as HTMLInputElement).checked })}
            aria-describedby="research-note"
          />
          <span>Allow my data to be used for medical research, without my name</span>
        </label>
        <p class="hint" id="research-note">
          {form.researchUse
            ? 'Researchers may use your readings with your name and details removed. You can stop this at any time; it then applies to future research.'
            : 'Researchers cannot use your data. Saying yes lets them use your readings with your name and details removed.'}
        </p>
        {fieldError(save.error, 'researchUse') ? (
          <p class="field-error">{fieldError(save.error, 'researchUse')}</p>
        ) : null}
      </div>

      {stale ? (
        <div class="notice notice-error" role="alert">
          Your consent was changed somewhere else (another device or tab) since you opened this page.{' '}
          <button type="button" onClick={props.onReload}>
            Load the latest
          </button>{' '}
          and make your changes again.
        </div>
      ) : (
        <ErrorNotice error={save.error} />
      )}
      {props.justSaved && !changed ? (
        <p class="notice notice-ok" role="status">
          Saved. Your choices apply from now on.
        </p>
      ) : null}
      <div class="form-actions sticky-actions">
        <button type="submit" class="primary" disabled={save.busy || !changed} data-testid="save-consent">
          {save.busy ? 'Saving…' : 'Save my choices'}
        </button>
        {changed ? (
          <>
            <span class="hint" role="status">
              You have unsaved changes.
            </span>
            <button type="button" onClick={() => setForm(loaded)}>
              Undo changes
            </button>
          </>
        ) : null}
      </div>
    </form>
  );
}

function CategoryChoice(props: {
  category: Category;
  form: ConsentForm;
  people: readonly string[];
  nameOf: (u: string) => string;
  onChange: (f: ConsentForm) => void;
}) {
  const { category, form } = props;
  const text = CATEGORY_TEXT[category];
  const fromAll = form.everyone.includes(category);
  const hiddenFor = (u: string) => form.people.some((p) => p.userId === u && p.categories.includes(category));
  return (
    <fieldset class="panel category" data-testid="consent-category" data-category={category}>
      <legend>{text.label}</legend>
      <p class="hint">{text.what}</p>
      <label class="choice">
        <input
          type="checkbox"
          name={`hide-all-${category}`}
          checked={fromAll}
          onChange={(e) =>
            props.onChange(withEveryone(form, category, (e.target as HTMLInputElement).checked))
          }
        />
        <span>Hide from everyone caring for me (doctors, nurses and caregivers)</span>
      </label>
      {!fromAll
        ? props.people.map((u) => (
            <label key={u} class="choice">
              <input
                type="checkbox"
                name={`hide-${category}-${u}`}
                checked={hiddenFor(u)}
                onChange={(e) =>
                  props.onChange(withPerson(form, u, category, (e.target as HTMLInputElement).checked))
                }
              />
              <span>Hide from {props.nameOf(u)}</span>
            </label>
          ))
        : null}
      <p class={fromAll || props.people.some(hiddenFor) ? 'consent-effect warn' : 'consent-effect'}>
        {fromAll
          ? `Hidden from everyone caring for you. ${text.ifHidden}`
          : props.people.some(hiddenFor)
            ? `Hidden from: ${props.people.filter(hiddenFor).map(props.nameOf).join(', ')}. ${text.ifHidden}`
            : 'Shared with your care team and the caregivers you chose.'}
      </p>
    </fieldset>
  );
}

/**
 * Someone not listed yet (e.g. a particular clinician), found by name in the people directory: clinicians
 * and nurses by part of their name, the patient's caregivers too, any other caregiver by their username.
 */
function AddPerson({ known, onAdd }: { known: readonly string[]; onAdd: (p: Person) => void }) {
  const [chosen, setChosen] = useState<Person | undefined>();
  const [missing, setMissing] = useState(false);
  // A new picker after each addition: its text and results start afresh.
  const [round, setRound] = useState(0);
  const add = () => {
    if (!chosen) return setMissing(true);
    setMissing(false);
    setChosen(undefined);
    setRound((r) => r + 1);
    onAdd(chosen);
  };
  return (
    <details class="panel add-person">
      <summary>Hide something from one particular person</summary>
      <p class="hint">
        Find them by name; they then appear under each kind of data above, where you choose what to hide from
        them.
      </p>
      <PersonPicker
        key={round}
        label="Find a person"
        name="personUserId"
        hint="Type part of a doctor's or nurse's name. A caregiver you do not share with yet: type their username."
        exclude={known}
        chosen={chosen}
        onChoose={(p) => {
          setChosen(p);
          if (p) setMissing(false);
        }}
        localError={missing ? 'Choose a person from the list first.' : undefined}
        testId="consent-person-picker"
      />
      <button type="button" onClick={add}>
        Add this person
      </button>
    </details>
  );
}
