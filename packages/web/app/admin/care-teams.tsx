/**
 * `#/admin/care-teams`: who cares for whom. A care team's members (clinicians and nurses) see its patients'
 * data, as far as each patient's consent allows; adding and removing members and patients is immediate.
 * A member is found by name in the people directory, and the members of every team are named by one
 * lookup in it. A patient is found by the identifier staff know (the hospital number; the platform finds
 * only an exact identifier, names being encrypted at rest), and the patients of the teams are named by one
 * patient read each, for the first NAME_CAP on the screen.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, post, put } from '../api.ts';
import { asApiError, useAction, useLoad } from '../ui/async.ts';
import { TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page } from '../ui/kit.tsx';
import { type PeopleNames, usePeopleNames } from '../ui/person-names.tsx';
import { type Person, PersonPicker } from '../ui/person-picker.tsx';
import { nameOrId, personLabel } from '../ui/person-search.ts';
import {
  foundStatus,
  identifierQuery,
  NAME_CAP,
  namingOfFailure,
  type PatientNaming,
  type PatientRecord,
  patientDetail,
  patientName,
  patientsToName,
  teamPatientLabel,
  teamPatientShort,
} from './care-team-patients.ts';

interface CareTeam {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly members: readonly string[];
  readonly patients: readonly string[];
}

const teamPath = (id: string) => `/api/v1/admin/care-teams/${encodeURIComponent(id)}`;

export function CareTeams() {
  const teams = useLoad(async () => (await get<{ items: CareTeam[] }>('/api/v1/admin/care-teams')).items, []);
  // The members of all teams named at once (one lookup, asked again when the members change).
  const names = usePeopleNames(teams.data?.flatMap((t) => t.members));
  const patients = usePatientNaming(teams.data?.flatMap((t) => t.patients));
  return (
    <Page title="Care teams">
      <CreateTeam onCreated={teams.reload} />
      <ErrorNotice error={teams.error} />
      {teams.loading && !teams.data ? <Loading what="care teams" /> : null}
      {teams.data?.length === 0 ? <p>No care teams yet.</p> : null}
      {(teams.data ?? []).map((t) => (
        <Team key={t.id} team={t} names={names} patients={patients} onChanged={teams.reload} />
      ))}
    </Page>
  );
}

function CreateTeam({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const create = useAction(async () => {
    await post('/api/v1/admin/care-teams', { name: name.trim() });
    setName('');
    onCreated();
  });
  return (
    <form
      class="panel inline-form"
      aria-label="Create a care team"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <TextField
        label="New care team"
        name="name"
        value={name}
        onInput={setName}
        required
        maxLength={128}
        hint="E.g. Ward 7 nights, Heart failure at home."
        error={create.error}
      />
      <button type="submit" class="primary" disabled={create.busy}>
        Create team
      </button>
      <ErrorNotice error={create.error} />
    </form>
  );
}

/** What the screen knows of the team patients' names, and a way to tell it one it already has. */
interface PatientNames {
  readonly known: ReadonlyMap<string, PatientNaming>;
  /** The ids asked (the first NAME_CAP shown): the others stay by record id. */
  readonly asked: ReadonlySet<string>;
  remember(p: PatientRecord): void;
}

/**
 * Names the team patients: the care-team API gives only their record ids. Each is named by the
 * administrator's patient read (`GET /api/v1/admin/patients/{id}`, audited), not by paging the whole
 * registry (every patient's identity decrypted and sent to name a few), so the first NAME_CAP ids are read
 * together, each once while the screen is open (an id added or a team reloaded asks only what is new). A
 * patient added from the search is known already and not read again.
 */
function usePatientNaming(ids: readonly string[] | undefined): PatientNames {
  const [known, setKnown] = useState<ReadonlyMap<string, PatientNaming>>(new Map());
  const asking = useRef(new Set<string>());
  const wanted = ids === undefined ? '' : patientsToName(ids).join('\n');
  useEffect(() => {
    const ask = wanted.split('\n').filter((id) => id !== '' && !known.has(id) && !asking.current.has(id));
    if (ask.length === 0) return;
    for (const id of ask) asking.current.add(id);
    void Promise.all(
      ask.map(async (id): Promise<[string, PatientNaming]> => {
        try {
          return [id, await get<PatientRecord>(`/api/v1/admin/patients/${encodeURIComponent(id)}`)];
        } catch (e) {
          return [id, namingOfFailure(asApiError(e).status)];
        }
      }),
    ).then((answers) => {
      for (const id of ask) asking.current.delete(id);
      setKnown((old) => new Map([...old, ...answers]));
    });
  }, [wanted, known]);
  return {
    known,
    asked: new Set(wanted === '' ? [] : wanted.split('\n')),
    remember: (p) => setKnown((old) => new Map(old).set(p.id, p)),
  };
}

function Team(props: {
  team: CareTeam;
  names: PeopleNames | undefined;
  patients: PatientNames;
  onChanged: () => void;
}) {
  const { team } = props;
  const [member, setMember] = useState<Person | undefined>();
  // A new picker after each member added: its text and results start afresh.
  const [round, setRound] = useState(0);
  const change = useAction(async (kind: 'members' | 'patients', id: string, add: boolean) => {
    const path = `${teamPath(team.id)}/${kind}/${encodeURIComponent(id)}`;
    await (add ? put(path, {}) : del(path));
    if (add && kind === 'members') {
      setMember(undefined);
      setRound((r) => r + 1);
    }
    props.onChanged();
  });
  // "Beatriz Barros (n.barros, nurse)"; an account the directory does not answer (disabled): "id (not found)".
  const who = (id: string) => nameOrId(id, props.names, id, personLabel);
  const { known, asked } = props.patients;
  const unnamed = team.patients.some((p) => !asked.has(p) && !known.has(p));
  const headingId = `team-${team.id}`;
  return (
    <section
      class="panel care-team"
      aria-labelledby={headingId}
      data-testid="care-team"
      data-team-id={team.id}
    >
      <h2 id={headingId}>{team.name}</h2>
      <ErrorNotice error={change.error} />
      <div class="team-columns">
        <div>
          <h3>Members ({team.members.length})</h3>
          <ul class="plain-list">
            {team.members.map((m) => (
              <li key={m} data-testid="team-member" data-user-id={m}>
                {who(m)}{' '}
                <button
                  type="button"
                  class="small"
                  onClick={() => void change.run('members', m, false)}
                  disabled={change.busy}
                >
                  Remove
                  <span class="visually-hidden">
                    {' '}
                    {who(m)} from {team.name}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <form
            class="inline-form"
            aria-label={`Add a member to ${team.name}`}
            onSubmit={(e) => {
              e.preventDefault();
              if (member) void change.run('members', member.id, true);
            }}
          >
            <PersonPicker
              key={round}
              label="Add a clinician or nurse"
              name="member"
              roles={['clinician', 'nurse']}
              exclude={team.members}
              chosen={member}
              onChoose={setMember}
              hint="Type part of their name or username."
              error={change.error}
              testId="member-picker"
            />
            <button type="submit" disabled={!member || change.busy}>
              Add member
            </button>
          </form>
        </div>
        <div>
          <h3>Patients ({team.patients.length})</h3>
          <ul class="plain-list">
            {team.patients.map((p) => (
              <li key={p} data-testid="team-patient" data-patient-id={p}>
                <span>{teamPatientLabel(p, known.get(p))}</span>{' '}
                <button
                  type="button"
                  class="small"
                  onClick={() => void change.run('patients', p, false)}
                  disabled={change.busy}
                >
                  Remove
                  <span class="visually-hidden">
                    {' '}
                    {teamPatientShort(p, known.get(p))} from {team.name}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {unnamed ? (
            <p class="hint">
              Only the first {NAME_CAP} patients on this screen are named; the others show their record id.
            </p>
          ) : null}
          <FindPatient
            team={team}
            onAdded={(p) => {
              props.patients.remember(p);
              props.onChanged();
            }}
          />
        </div>
      </div>
    </section>
  );
}

/**
 * "Find patient": the identifier (hospital number) staff know, searched on submit (the platform matches it
 * exactly, so nothing is asked while typing), the patients with it (name, birth date, identifier, record
 * id: two registrations of one identifier can be told apart) each with "Add to team". A live region says
 * how many were found, or that none has this identifier, and who was added; after adding, focus goes back
 * to the identifier for the next patient. The identifier travels in the request body, never in a URL.
 */
function FindPatient(props: { team: CareTeam; onAdded: (p: PatientRecord) => void }) {
  const { team } = props;
  const form = useRef<HTMLFormElement>(null);
  const [typed, setTyped] = useState('');
  const [localError, setLocalError] = useState<string | undefined>();
  const [found, setFound] = useState<{ identifier: string; items: PatientRecord[] } | undefined>();
  const [added, setAdded] = useState<string | undefined>();
  const search = useAction(async () => {
    setAdded(undefined);
    const q = identifierQuery(typed);
    if ('problem' in q) {
      setLocalError(q.problem);
      setFound(undefined);
      return;
    }
    setLocalError(undefined);
    const answer = await post<{ items: PatientRecord[] }>('/api/v1/admin/patients/search', q);
    setFound({ identifier: q.identifier, items: answer.items });
  });
  const add = useAction(async (p: PatientRecord) => {
    await put(`${teamPath(team.id)}/patients/${encodeURIComponent(p.id)}`, {});
    setAdded(`Added ${patientName(p)} to ${team.name}.`);
    props.onAdded(p);
    // The button pressed turns into "In this team": focus goes where the next patient is typed.
    (form.current?.elements.namedItem('identifier') as HTMLInputElement | null)?.focus();
  });
  return (
    <div class="find-patient" data-testid="find-patient">
      <form
        ref={form}
        class="inline-form"
        aria-label={`Find a patient for ${team.name}`}
        onSubmit={(e) => {
          e.preventDefault();
          void search.run();
        }}
      >
        <TextField
          label="Find patient by identifier"
          name="identifier"
          value={typed}
          onInput={(v) => {
            setTyped(v);
            setLocalError(undefined);
          }}
          hint="The hospital number (MRN), exactly as registered."
          localError={localError}
          error={search.error}
        />
        <button type="submit" disabled={search.busy}>
          Find patient
        </button>
      </form>
      <p class="hint" role="status" data-testid="find-patient-status">
        {foundStatus({ searching: search.busy, found: found?.items, added })}
      </p>
      <ErrorNotice error={search.error ?? add.error} />
      {found && found.items.length > 0 ? (
        <ul class="plain-list" aria-label={`Patients with identifier ${found.identifier}`}>
          {found.items.map((p) => (
            <li key={p.id} data-testid="found-patient" data-patient-id={p.id}>
              <span>
                <span class="person-name">{patientName(p)}</span>{' '}
                <span class="person-detail">{patientDetail(p)}</span>
              </span>
              {team.patients.includes(p.id) ? (
                <span class="hint">In this team</span>
              ) : (
                <button type="button" class="small" onClick={() => void add.run(p)} disabled={add.busy}>
                  Add to team
                  <span class="visually-hidden">
                    {' '}
                    {team.name}: {patientName(p)}, {patientDetail(p)}
                  </span>
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
