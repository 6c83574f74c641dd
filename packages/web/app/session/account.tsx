/**
 * `#/account`, for every role: the person's passkeys (add, remove) and signing out on every device. Loaded
 * as its own chunk with the WebAuthn library, so neither weighs on the first page.
 */
import { type PublicKeyCredentialCreationOptionsJSON, startRegistration } from '@simplewebauthn/browser';
import { useState } from 'preact/hooks';
import { del, get, post, SIGNED_OUT } from '../api.ts';
import type { AreaProps } from '../shell.tsx';
import { useAction, useLoad } from '../ui/async.ts';
import { ErrorNotice, Field, Loading, Page, Time } from '../ui/kit.tsx';
import { passkeyRefusal } from './passkey-errors.ts';

interface PasskeySummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

export default function Account({ me }: AreaProps) {
  return (
    <Page title="Your account">
      <p>
        Signed in as <strong>{me.displayName ?? me.username}</strong> ({me.username}; {me.roles.join(', ')}).
      </p>
      <Passkeys />
      <SignOutEverywhere />
    </Page>
  );
}

function Passkeys() {
  const list = useLoad(() => get<{ passkeys: PasskeySummary[] }>('/api/v1/auth/passkeys'), []);
  const [name, setName] = useState('');
  const [added, setAdded] = useState<string | undefined>();
  const add = useAction(async () => {
    setAdded(undefined);
    const options = await post<PublicKeyCredentialCreationOptionsJSON>(
      '/api/v1/auth/passkeys/register/options',
    );
    let response: Awaited<ReturnType<typeof startRegistration>>;
    try {
      response = await startRegistration({ optionsJSON: options });
    } catch (e) {
      throw passkeyRefusal(e, 'The passkey was not created');
    }
    const made = await post<PasskeySummary>('/api/v1/auth/passkeys/register/verify', {
      response,
      ...(name.trim() ? { name: name.trim() } : {}),
    });
    setName('');
    setAdded(made.name);
    list.reload();
  });
  const remove = useAction(async (p: PasskeySummary) => {
    setAdded(undefined);
    await del(`/api/v1/auth/passkeys/${encodeURIComponent(p.id)}`);
    list.reload();
  });
  const passkeys = list.data?.passkeys;
  return (
    <section class="panel" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      <p>
        A passkey signs you in with your device's screen lock or security key instead of your password and
        authenticator code. It only works on this site, so it cannot be phished.
      </p>
      <ErrorNotice error={list.error ?? remove.error} />
      {list.loading && !passkeys ? <Loading what="your passkeys" /> : null}
      {passkeys && passkeys.length === 0 ? <p>You have no passkeys yet.</p> : null}
      {passkeys && passkeys.length > 0 ? (
        <div class="table-wrap">
          <table aria-label="Your passkeys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Added</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {passkeys.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td>
                    <Time at={p.createdAt} />
                  </td>
                  <td>{p.lastUsedAt ? <Time at={p.lastUsedAt} /> : 'never'}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Remove passkey ${p.name}`}
                      disabled={remove.busy}
                      onClick={() => void remove.run(p)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form
        aria-label="Add a passkey"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <h3>Add a passkey</h3>
        <ErrorNotice error={add.error} />
        {added ? (
          <p class="notice notice-ok" role="status">
            Passkey “{added}” added.
          </p>
        ) : null}
        <Field
          label="Name for the passkey (optional)"
          name="name"
          value={name}
          onInput={setName}
          hint="For example the device it is on."
          error={add.error}
        />
        <button type="submit" class="primary" disabled={add.busy}>
          {add.busy ? 'Waiting for your device…' : 'Add a passkey'}
        </button>
      </form>
    </section>
  );
}

function SignOutEverywhere() {
  const action = useAction(async () => {
    await post('/api/v1/auth/logout-everywhere');
    dispatchEvent(new Event(SIGNED_OUT));
  });
  return (
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p>Ends your sessions on every device and browser, this one included.</p>
      <ErrorNotice error={action.error} />
      <button type="button" class="danger" disabled={action.busy} onClick={() => void action.run()}>
        Sign out everywhere
      </button>
    </section>
  );
}
