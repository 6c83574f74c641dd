/** The web app: who is signed in decides what they see (staff, patient side, administrator). */
import './styles.css';
// Each area's styles are in the first stylesheet: esbuild does not load CSS of lazily imported chunks.
import './clinician/clinician.css';
import './patient/patient.css';
import './admin/admin.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, type Me, SIGNED_OUT } from './api.ts';
import { useRoute } from './router.ts';
import { SetUpAccount, SignIn } from './session/sign-in.tsx';
import { Shell } from './shell.tsx';
import { Loading } from './ui/kit.tsx';

type SessionState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out'; readonly step?: 'mfa' | 'totp-enrol' }
  | { readonly kind: 'signed-in'; readonly me: Me };

function App() {
  const [session, setSession] = useState<SessionState>({ kind: 'loading' });
  const [settingUp, setSettingUp] = useState(location.pathname === '/setup');
  const route = useRoute();
  const refresh = async () => {
    try {
      const me = await get<Me>('/api/v1/auth/me');
      if (returnToOAuthConsent()) return;
      setSession({ kind: 'signed-in', me });
    } catch (e) {
      const type = e instanceof ApiError ? e.problem.type : undefined;
      const step =
        type === 'urn:openiomt:auth:mfa'
          ? 'mfa'
          : type === 'urn:openiomt:auth:totp-enrol'
            ? 'totp-enrol'
            : undefined;
      setSession({ kind: 'signed-out', ...(step ? { step } : {}) });
    }
  };
  useEffect(() => {
    void refresh();
    const onSignedOut = () => void refresh();
    addEventListener(SIGNED_OUT, onSignedOut);
    return () => removeEventListener(SIGNED_OUT, onSignedOut);
  }, []);

  if (settingUp)
    return (
      <SetUpAccount
        onDone={() => {
          setSettingUp(false);
          setSession({ kind: 'signed-out' });
        }}
      />
    );
  if (session.kind === 'loading') return <Loading what="OpenIoMT" />;
  if (session.kind === 'signed-out')
    return (
      <SignIn
        key={session.step ?? 'password'}
        initialStep={session.step ?? 'password'}
        onSignedIn={() => void refresh()}
      />
    );
  return <Shell me={session.me} route={route} onSignedOut={() => setSession({ kind: 'signed-out' })} />;
}

/**
 * An app asking for access (OAuth, docs/oauth.md) sent the person here to sign in, with `next` naming the
 * consent page: once signed in, go there. Only that exact same-site path is followed (no open redirect).
 */
function returnToOAuthConsent(): boolean {
  const next = new URLSearchParams(location.search).get('next');
  if (next === null || !/^\/oauth\/interaction\/[A-Za-z0-9_-]{1,128}$/.test(next)) return false;
  location.assign(next);
  return true;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
