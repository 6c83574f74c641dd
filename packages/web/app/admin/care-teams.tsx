/**
 * `#/admin/care-teams`: who cares for whom. A care team's members (clinicians and nurses) see its patients'
 * data, as far as each patient's consent allows; adding and removing members and patients is immediate.
 */
import { useState } from 'preact/hooks';
import { del, get, post, put } from '../api.ts';
import { useAction, useLoad } from '../ui/async.ts';
import { SelectField, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page } from '../ui/kit.tsx';
import type { User } from './accounts.ts';
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
  const users = useLoad(
    async () => (await get<{ items: User[] }>('/api/v1/admin/users?limit=1000')).items,
    [],
  );
  const byId = new Map((users.data ?? []).map((u) => [u.id, u]));
  const staff = (users.data ?? []).filter(
    (u) => !u.disabledAt && u.roles.some((r) => r === 'clinician' || r === 'nurse'),
  );
  return (
    <Page title="Care teams">
      <CreateTeam onCreated={teams.reload} />
      <ErrorNotice error={teams.error ?? users.error} />
      {teams.loading && !teams.data ? <Loading what="care teams" /> : null}
      {teams.data?.length === 0 ? <p>No care teams yet.</p> : null}
      {(teams.data ?? []).map((t) => (
        <Team key={t.id} team={t} users={byId} staff={staff} onChanged={teams.reload} />
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

function Team(props: {
  team: CareTeam;
  users: Map<string, User>;
  staff: readonly User[];
  onChanged: () => void;
}) {
  const { team } = props;
  const patients = usePatientSuggestions();
  const [member, setMember] = useState('');
  const [patient, setPatient] = useState('');
  const change = useAction(async (kind: 'members' | 'patients', id: string, add: boolean) => {
    const path = `${teamPath(team.id)}/${kind}/${encodeURIComponent(id)}`;
    await (add ? put(path, {}) : del(path));
    if (add && kind === 'members') setMember('');
    if (add && kind === 'patients') setPatient('');
    props.onChanged();
  });
  const who = (id: string) => {
    const u = props.users.get(id);
    return u ? `${u.displayName ?? u.username} (${u.roles.join(', ')})` : id;
  };
  const candidates = props.staff.filter((u) => !team.members.includes(u.id));
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
              if (member) void change.run('members', member, true);
            }}
          >
            <SelectField
              label="Add a clinician or nurse"
              name="member"
              value={member}
              onChange={setMember}
              options={[
                ['', candidates.length ? 'Choose…' : 'No one else to add'],
                ...candidates.map((u) => [u.id, who(u.id)] as const),
              ]}
              error={change.error}
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
