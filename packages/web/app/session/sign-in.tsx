/**
 * Sign-in: password, then the authenticator code (staff must have one; a first sign-in enrols it with a QR
 * code), or a passkey alone (both factors at once). Failures all read the same, as the platform answers
 * them, so nothing tells which accounts exist. The WebAuthn library is loaded only when the passkey button
 * is pressed, so the first page stays small.
 */

import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import { post } from '../api.ts';
import { useAction } from '../ui/async.ts';
import { ErrorNotice, Field } from '../ui/kit.tsx';
import { passkeyRefusal } from './passkey-errors.ts';

type Step = 'password' | 'mfa' | 'totp-enrol';

interface LoginAnswer {
  readonly signedIn: boolean;
  readonly next?: 'mfa' | 'totp-enrol';
}

export function SignIn({ onSignedIn, initialStep }: { onSignedIn: () => void; initialStep?: Step }) {
  const [step, setStep] = useState<Step>(initialStep ?? 'password');
  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <h1>
          <span class="logo" aria-hidden="true">
            ∿
          </span>{' '}
          OpenIoMT
        </h1>
        {step === 'password' ? (
          <PasswordStep onNext={(next) => (next ? setStep(next) : onSignedIn())} />
        ) : step === 'mfa' ? (
          <CodeStep onDone={onSignedIn} />
        ) : (
          <EnrolStep onDone={onSignedIn} />
        )}
      </div>
    </main>
  );
}

function PasswordStep({ onNext }: { onNext: (next: Step | undefined) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(async () => {
    const r = await post<LoginAnswer>('/api/v1/auth/login', { username, password });
    onNext(r.signedIn ? undefined : r.next);
  });
  return (
    <form
      aria-label="Sign in"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run();
      }}
    >
      <h2>Sign in</h2>
      <ErrorNotice error={action.error} />
      <Field
        label="Username"
        name="username"
        value={username}
        onInput={setUsername}
        autoComplete="username"
        required
      />
      <Field
        label="Password"
        name="password"
        type="password"
        value={password}
        onInput={setPassword}
        autoComplete="current-password"
        required
      />
      <button type="submit" class="primary" disabled={action.busy}>
        {action.busy ? 'Signing in…' : 'Sign in'}
      </button>
      <PasskeySignIn onSignedIn={() => onNext(undefined)} />
    </form>
  );
}

/** No username needed: the device offers this site's passkeys, and one of them is both factors. */
function PasskeySignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const action = useAction(async () => {
    const { startAuthentication } = await import('@simplewebauthn/browser');
    const options = await post<PublicKeyCredentialRequestOptionsJSON>('/api/v1/auth/passkeys/login/options');
    let response: Awaited<ReturnType<typeof startAuthentication>>;
    try {
      response = await startAuthentication({ optionsJSON: options });
    } catch (e) {
      throw passkeyRefusal(e, 'Passkey not used');
    }
    await post('/api/v1/auth/passkeys/login/verify', { response });
    onSignedIn();
  });
  if (typeof PublicKeyCredential === 'undefined') return null;
  return (
    <div class="passkey-sign-in">
      <p class="or">or</p>
      <ErrorNotice error={action.error} />
      <button type="button" disabled={action.busy} onClick={() => void action.run()}>
        {action.busy ? 'Waiting for your passkey…' : 'Sign in with a passkey'}
      </button>
    </div>
  );
}

function CodeStep({ onDone }: { onDone: () => void }) {
  const [code, setCode] = useState('');
  const action = useAction(async () => {
    await post('/api/v1/auth/mfa', { code: code.replace(/\s/g, '') });
    onDone();
  });
  return (
    <form
      aria-label="Authenticator code"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run();
      }}
    >
      <h2>Authenticator code</h2>
      <p>Enter the 6-digit code your authenticator app shows for OpenIoMT.</p>
      <ErrorNotice error={action.error} />
      <Field
        label="Code"
        name="code"
        value={code}
        onInput={setCode}
        autoComplete="one-time-code"
        inputMode="numeric"
        pattern="[0-9 ]{6,7}"
        required
      />
      <button type="submit" class="primary" disabled={action.busy}>
        Verify
      </button>
    </form>
  );
}

function EnrolStep({ onDone }: { onDone: () => void }) {
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | undefined>();
  const [code, setCode] = useState('');
  const start = useAction(async () => {
    setEnrolment(await post<{ secret: string; uri: string }>('/api/v1/auth/totp/enrol'));
  });
  const confirm = useAction(async () => {
    await post('/api/v1/auth/totp/confirm', { code: code.replace(/\s/g, '') });
    onDone();
  });
  if (!enrolment)
    return (
      <div>
        <h2>Set up your authenticator</h2>
        <p>Staff accounts need a second factor. Have an authenticator app ready on your phone.</p>
        <ErrorNotice error={start.error} />
        <button type="button" class="primary" onClick={() => void start.run()} disabled={start.busy}>
          Show the set-up code
        </button>
      </div>
    );
  return (
    <form
      aria-label="Confirm authenticator"
      onSubmit={(e) => {
        e.preventDefault();
        void confirm.run();
      }}
    >
      <h2>Scan with your authenticator</h2>
      <QrCode text={enrolment.uri} label="Authenticator set-up QR code" />
      <p>
        Or type this key:{' '}
        <code class="secret" data-testid="totp-secret">
          {enrolment.secret}
        </code>
      </p>
      <ErrorNotice error={confirm.error} />
      <Field
        label="First code from the app"
        name="code"
        value={code}
        onInput={setCode}
        autoComplete="one-time-code"
        inputMode="numeric"
        required
      />
      <button type="submit" class="primary" disabled={confirm.busy}>
        Confirm
      </button>
    </form>
  );
}

/** A QR code drawn as SVG (no image request, so the CSP stays strict). */
export function QrCode({ text, label }: { text: string; label: string }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${n + 8} ${n + 8}`} width="200" height="200">
      <rect width="100%" height="100%" fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

/** `/setup#token=…`: a new account chooses its password with the one-time link an administrator gave. */
export function SetUpAccount({ onDone }: { onDone: () => void }) {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const action = useAction(async () => {
    await post('/api/v1/auth/setup', { token, password });
    history.replaceState(null, '', '/');
    onDone();
  });
  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <h1>Choose your password</h1>
        <form
          aria-label="Choose your password"
          onSubmit={(e) => {
            e.preventDefault();
            setMismatch(password !== again);
            if (password === again) void action.run();
          }}
        >
          <ErrorNotice error={action.error} />
          <Field
            label="New password"
            name="password"
            type="password"
            value={password}
            onInput={setPassword}
            autoComplete="new-password"
            hint="At least 12 characters; not a common password."
            error={action.error}
            required
          />
          <Field
            label="New password again"
            name="again"
            type="password"
            value={again}
            onInput={setAgain}
            autoComplete="new-password"
            required
          />
          {mismatch ? (
            <p class="field-error" role="alert">
              The two passwords differ.
            </p>
          ) : null}
          <button type="submit" class="primary" disabled={action.busy || !token}>
            Set password
          </button>
          {!token ? (
            <p class="field-error">This link has no set-up token. Ask an administrator for a new link.</p>
          ) : null}
        </form>
      </div>
    </main>
  );
}
