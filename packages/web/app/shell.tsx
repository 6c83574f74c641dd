/**
 * The frame around every screen: a skip link, the navigation for the person's roles, sign-out. Each area
 * (clinician, patient side, administration) is its own chunk, loaded when first shown, so a patient's phone
 * never downloads the admin console.
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { isAdmin, isPatientSide, isStaff, type Me, post } from './api.ts';
import { href, type Route } from './router.ts';
import { asApiError } from './ui/async.ts';
import { ErrorNotice, Loading } from './ui/kit.tsx';

export interface AreaProps {
  readonly me: Me;
  readonly route: Route;
}

type AreaName = 'clinician' | 'patient' | 'admin' | 'account';
type AreaModule = { default: ComponentType<AreaProps> };

const AREAS: Record<AreaName, () => Promise<AreaModule>> = {
  clinician: () => import('./clinician/area.tsx'),
  patient: () => import('./patient/area.tsx'),
  admin: () => import('./admin/area.tsx'),
  account: () => import('./session/account.tsx'),
};

interface NavItem {
  readonly label: string;
  readonly path: string;
}

export function navFor(me: Me): NavItem[] {
  const items: NavItem[] = [];
  if (isStaff(me))
    items.push(
      { label: 'Census', path: 'census' },
      { label: 'Alarms', path: 'alarms' },
      { label: 'Messages', path: 'messages' },
    );
  if (isPatientSide(me))
    items.push(
      { label: 'My health', path: 'my' },
      { label: 'Consent', path: 'consent' },
      { label: 'My data', path: 'my-data' },
      { label: 'Messages', path: 'my-messages' },
    );
  if (isAdmin(me))
    items.push(
      { label: 'Devices', path: 'admin/devices' },
      { label: 'People', path: 'admin/users' },
      { label: 'Care teams', path: 'admin/care-teams' },
      { label: 'Dead letters', path: 'admin/dead-letters' },
      { label: 'Security', path: 'admin/security' },
      { label: 'Audit', path: 'admin/audit' },
    );
  return items;
}

/** Which area draws a route; the first nav item is home. */
export function areaOf(me: Me, route: Route): AreaName | undefined {
  const first = route.parts[0] ?? navFor(me)[0]?.path.split('/')[0];
  if (first === 'account') return 'account';
  if (first === 'admin') return isAdmin(me) ? 'admin' : undefined;
  if (['census', 'alarms', 'patients', 'messages'].includes(first ?? ''))
    return isStaff(me) ? 'clinician' : undefined;
  if (['my', 'consent', 'my-data', 'my-messages'].includes(first ?? ''))
    return isPatientSide(me) ? 'patient' : undefined;
  return undefined;
}

export function Shell({ me, route, onSignedOut }: AreaProps & { onSignedOut: () => void }) {
  const nav = navFor(me);
  const home = nav[0]?.path;
  const current = route.parts.join('/') || home || '';
  const effective: Route =
    route.parts.length === 0 && home ? { parts: home.split('/'), params: route.params } : route;
  const area = areaOf(me, effective);
  return (
    <div class="shell">
      <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top-bar">
        <span class="brand">
          <span class="logo" aria-hidden="true">
            ∿
          </span>{' '}
          OpenIoMT
        </span>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li key={n.path}>
                <a
                  href={href(...n.path.split('/'))}
                  aria-current={current === n.path || current.startsWith(`${n.path}/`) ? 'page' : undefined}
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <a
            class="who-link"
            href={href('account')}
            aria-current={current === 'account' ? 'page' : undefined}
          >
            <span class="who-name">{me.displayName ?? me.username}</span>
            <span class="who-short">Account</span>
          </a>
          <button
            type="button"
            onClick={() => {
              void post('/api/v1/auth/logout').finally(onSignedOut);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {area ? <LazyArea name={area} me={me} route={effective} /> : <NoAccess me={me} />}
      </main>
    </div>
  );
}

function NoAccess({ me }: { me: Me }) {
  return (
    <div class="page">
      <h1>Nothing here for you</h1>
      <p>
        {navFor(me).length === 0
          ? 'Your account has no role with a screen in this app yet. Ask an administrator.'
          : 'This screen is not part of your role. Use the menu above.'}
      </p>
    </div>
  );
}

const loaded = new Map<AreaName, ComponentType<AreaProps>>();

function LazyArea({ name, me, route }: AreaProps & { name: AreaName }) {
  const [Area, setArea] = useState<ComponentType<AreaProps> | undefined>(() => loaded.get(name));
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (loaded.has(name)) {
      setArea(() => loaded.get(name));
      return;
    }
    AREAS[name]().then(
      (m) => {
        loaded.set(name, m.default);
        setArea(() => m.default);
      },
      (e: unknown) => setError(e),
    );
  }, [name]);
  if (error) return <ErrorNotice error={asApiError(error)} />;
  if (!Area || loaded.get(name) !== Area) return <Loading what="the screen" />;
  return <Area me={me} route={route} />;
}
