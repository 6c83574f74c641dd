/**
 * `#/admin/care-teams`: who cares for whom. A care team's members (clinicians and nurses) see its patients'
 * data, as far as each patient's consent allows; adding and removing members and patients is immediate.
 * A member is found by name in the people directory, and the members of every team are named by one
 * lookup in it.
 */
import { useState } from 'preact/hooks';
import { del, get, post, put } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page } from '../ui/kit.tsx';
import { type PeopleNames, usePeopleNames } from '../ui/person-names.tsx';
import { type Person, PersonPicker } from '../ui/person-picker.tsx';
import { nameOrId, personLabel } from '../ui/person-search.ts';
import { usePatientSuggestions } from './paged.tsx';

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
  return (
    <Page title="Care teams">
      <CreateTeam onCreated={teams.reload} />
      <ErrorNotice error={teams.error} />
      {teams.loading && !teams.data ? <Loading what="care teams" /> : null}
      {teams.data?.length === 0 ? <p>No care teams yet.</p> : null}
      {(teams.data ?? []).map((t) => (
        <Team key={t.id} team={t} names={names} onChanged={teams.reload} />
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

function Team(props: { team: CareTeam; names: PeopleNames | undefined; onChanged: () => void }) {
  const { team } = props;
  const patients = usePatientSuggestions();
  const [member, setMember] = useState<Person | undefined>();
  // A new picker after each member added: its text and results start afresh.
  const [round, setRound] = useState(0);
  const [patient, setPatient] = useState('');
  const change = useAction(async (kind: 'members' | 'patients', id: string, add: boolean) => {
    const path = `${teamPath(team.id)}/${kind}/${encodeURIComponent(id)}`;
    await (add ? put(path, {}) : del(path));
    if (add && kind === 'members') {
      setMember(undefined);
      setRound((r) => r + 1);
    }
    if (add && kind === 'patients') setPatient('');
    props.onChanged();
  });
  // "Beatriz Barros (n.barros, nurse)"; an account the directory does not answer (disabled): "id (not found)".
  const who = (id: string) => nameOrId(id, props.names, id, personLabel);
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
                <code>{p}</code>{' '}
                <button
                  type="button"
                  class="small"
                  onClick={() => void change.run('patients', p, false)}
                  disabled={change.busy}
                >
                  Remove
                  <span class="visually-hidden">
                    {' '}
                    patient {p} from {team.name}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <form
            class="inline-form"
            aria-label={`Add a patient to ${team.name}`}
            onSubmit={(e) => {
              e.preventDefault();
              if (patient.trim()) void change.run('patients', patient.trim(), true);
            }}
          >
            <TextField
              label="Add a patient (record id)"
              name="patient"
              value={patient}
              onInput={setPatient}
              suggestions={patients}
              error={change.error}
            />
            <button type="submit" disabled={!patient.trim() || change.busy}>
              Add patient
            </button>
          </form>
        </div>
      </div>
    </section>
  );
}
