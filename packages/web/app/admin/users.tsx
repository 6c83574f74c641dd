/**
 * `#/admin/users`: people's accounts. Create one (roles; a patient account names its patient record) and
 * hand over its one-time set-up link; issue a new link (forgotten password), reset the authenticator (lost
 * phone), disable. `#/admin/users/patients` holds the patient records.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, post } from '../api.ts';
import { useAction } from '../ui/async.ts';
import { CheckboxGroup, ConfirmDialog, CopyButton, TextField } from '../ui/fields.tsx';
import { ErrorNotice, Page, Time } from '../ui/kit.tsx';
import {
  accountState,
  newAccountBody,
  ROLE_HINT,
  ROLE_TEXT,
  ROLES,
  type SetupLink,
  secondFactorText,
  setupLink,
  type User,
} from './accounts.ts';
import { PageFooter, SubNav, Table, usePaged, usePatientSuggestions } from './paged.tsx';

export const PEOPLE_TABS = [
  ['admin/users', 'Accounts'],
  ['admin/users/patients', 'Patient records'],
] as const;

export function Users() {
  const users = usePaged<User>('/api/v1/admin/users', {}, 200);
  const [link, setLink] = useState<{ username: string; link: SetupLink } | undefined>();
  const now = Date.now();
  return (
    <Page title="People">
      <SubNav label="People" items={PEOPLE_TABS} current="admin/users" />
      <CreateAccount
        onCreated={(username, l) => {
          setLink({ username, link: l });
          users.reload();
        }}
      />
      {link ? (
        <SetupLinkPanel username={link.username} link={link.link} onClose={() => setLink(undefined)} />
      ) : null}
      <h2>Accounts</h2>
      <Table
        caption="Accounts"
        head={['Username', 'Name', 'Roles', 'Patient record', 'State', 'Second factor', 'Created', 'Actions']}
        testId="user-table"
      >
        {users.items.map((u) => (
          <tr key={u.id} data-testid="user-row" data-user-id={u.id} data-username={u.username}>
            <td>
              <strong>{u.username}</strong>
              <div class="hint">
                id <code>{u.id}</code>
              </div>
            </td>
            <td>{u.displayName ?? '–'}</td>
            <td>{u.roles.join(', ')}</td>
            <td>{u.patientId ? <code>{u.patientId}</code> : '–'}</td>
            <td>
              <span
                class={`badge account-${accountState(u, now).replace(/ /g, '-')}`}
                data-testid="user-state"
              >
                {accountState(u, now)}
              </span>
              {u.failedLogins > 0 ? <div class="hint">{u.failedLogins} failed sign-ins</div> : null}
            </td>
            <td>{secondFactorText(u)}</td>
            <td>
              <Time at={u.createdAt} />
            </td>
            <td>
              <UserActions
                user={u}
                onLink={(l) => setLink({ username: u.username, link: l })}
                onChanged={users.reload}
              />
            </td>
          </tr>
        ))}
      </Table>
      <PageFooter list={users} what="accounts" />
    </Page>
  );
}

function CreateAccount({ onCreated }: { onCreated: (username: string, link: SetupLink) => void }) {
  const patients = usePatientSuggestions();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [roles, setRoles] = useState<string[]>([]);
  const [patientId, setPatientId] = useState('');
  const create = useAction(async () => {
    const checked = newAccountBody({
      username,
      displayName,
      roles,
      patientId: roles.includes('patient') ? patientId : '',
    });
    if (!checked.ok)
      throw new ApiError({
        status: 400,
        title: 'Check the form',
        detail: checked.problem,
        field: `/${checked.field}`,
      });
    const r = await post<{ user: User } & SetupLink>('/api/v1/admin/users', checked.body);
    setUsername('');
    setDisplayName('');
    setRoles([]);
    setPatientId('');
    onCreated(r.user.username, r);
  });
  return (
    <details class="panel">
      <summary>
        <h2>Create an account</h2>
      </summary>
      <form
        aria-label="Create an account"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <ErrorNotice error={create.error} />
        <div class="form-grid">
          <TextField
            label="Username"
            name="username"
            value={username}
            onInput={setUsername}
            required
            autoComplete="off"
            hint="3 to 64 characters: letters, digits and . _ @ + -. An e-mail address fits."
            error={create.error}
          />
          <TextField
            label="Display name (optional)"
            name="displayName"
            value={displayName}
            onInput={setDisplayName}
            error={create.error}
          />
        </div>
        <CheckboxGroup
          label="Roles"
          name="roles"
          values={roles}
          onChange={setRoles}
          options={ROLES.map((r) => [r, ROLE_TEXT[r], ROLE_HINT[r]] as const)}
          error={create.error}
        />
        {roles.includes('patient') ? (
          <TextField
            label="Patient record id"
            name="patientId"
            value={patientId}
            onInput={setPatientId}
            suggestions={patients}
            required
            hint="The patient's own record (register it under Patient records first)."
            error={create.error}
          />
        ) : null}
        <button type="submit" class="primary" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create account and set-up link'}
        </button>
      </form>
    </details>
  );
}

function SetupLinkPanel({
  username,
  link,
  onClose,
}: {
  username: string;
  link: SetupLink;
  onClose: () => void;
}) {
  const url = setupLink(location.origin, link.setupPath);
  const heading = useRef<HTMLHeadingElement>(null);
  // The link may come from a row far down the table: bring it into view and to the keyboard.
  useEffect(() => heading.current?.focus(), [link.setupToken]);
  return (
    <div class="panel setup-link" role="status" data-testid="setup-link-panel">
      <h2 ref={heading} tabIndex={-1}>
        Set-up link for {username}
      </h2>
      <p>
        Give this link to {username} by a trusted channel (in person, by phone). It works once, until{' '}
        <strong>{new Date(link.setupExpiresAt).toLocaleString()}</strong>. It is shown only now.
      </p>
      <p>
        <code class="secret" data-testid="setup-link">
          {url}
        </code>
      </p>
      <CopyButton text={url} label="Copy link" />{' '}
      <button type="button" onClick={onClose}>
        Done
      </button>
    </div>
  );
}

type UserAction = 'setup-link' | 'reset-mfa' | 'disable';

const ACTION_TEXT: Record<
  UserAction,
  { button: string; title: string; body: string; confirm: string; danger: boolean }
> = {
  'setup-link': {
    button: 'New set-up link',
    title: 'Issue a new set-up link?',
    body: 'For a forgotten password. The previous link stops working; the person chooses a new password with the new one.',
    confirm: 'Issue link',
    danger: false,
  },
  'reset-mfa': {
    button: 'Reset authenticator',
    title: 'Reset the authenticator?',
    body: 'For a lost phone. Their authenticator is removed and every session of theirs ends; they set up a new one at their next sign-in.',
    confirm: 'Reset authenticator',
    danger: true,
  },
  disable: {
    button: 'Disable',
    title: 'Disable this account?',
    body: 'They can no longer sign in, and every session of theirs ends now.',
    confirm: 'Disable account',
    danger: true,
  },
};

function UserActions({
  user,
  onLink,
  onChanged,
}: {
  user: User;
  onLink: (l: SetupLink) => void;
  onChanged: () => void;
}) {
  const [asking, setAsking] = useState<UserAction | undefined>();
  const act = useAction(async () => {
    if (!asking) return;
    const r = await post<unknown>(`/api/v1/admin/users/${encodeURIComponent(user.id)}/${asking}`, {});
    if (asking === 'setup-link') onLink(r as SetupLink);
    setAsking(undefined);
    onChanged();
  });
  if (user.disabledAt)
    return (
      <span class="hint">
        disabled <Time at={user.disabledAt} />
      </span>
    );
  const text = asking ? ACTION_TEXT[asking] : undefined;
  return (
    <div class="row-actions">
      {(Object.keys(ACTION_TEXT) as UserAction[])
        .filter((a) => a !== 'reset-mfa' || user.totpEnrolledAt)
        .map((a) => (
          <button
            key={a}
            type="button"
            class={ACTION_TEXT[a].danger ? 'danger small' : 'small'}
            onClick={() => setAsking(a)}
          >
            {ACTION_TEXT[a].button}
            <span class="visually-hidden"> for {user.username}</span>
          </button>
        ))}
      <ConfirmDialog
        open={text !== undefined}
        title={text?.title ?? ''}
        confirmLabel={text?.confirm ?? ''}
        danger={text?.danger ?? false}
        busy={act.busy}
        onConfirm={() => void act.run()}
        onCancel={() => {
          act.clear();
          setAsking(undefined);
        }}
        testId="user-action-dialog"
      >
        <p>
          Account <strong>{user.username}</strong>. {text?.body}
        </p>
        <ErrorNotice error={act.error} />
      </ConfirmDialog>
    </div>
  );
}
