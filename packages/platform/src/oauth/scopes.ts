/**
 * The scopes apps may ask for: OpenID Connect and SMART launch scopes, and SMART resource scopes (v1
 * `patient/Observation.read`, v2 `user/Observation.rs`) for the FHIR API. A client gets at most what it was
 * registered with; a narrower form of a registered scope is allowed too (`patient/*.read` covers
 * `patient/Observation.read` and `patient/Observation.rs`).
 */
import {
  parseSmartScope,
  RESOURCE_TYPES,
  SCOPE_CONTEXTS,
  type SmartScope,
  scopeCovers,
} from '@openiomt/core';

/** Scopes that are not about FHIR resources: identity, launch context and refresh tokens. */
export const STATIC_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'offline_access'] as const;

export const isStaticScope = (s: string): boolean => (STATIC_SCOPES as readonly string[]).includes(s);

/** A scope this server understands. */
export const isKnownScope = (s: string): boolean => isStaticScope(s) || parseSmartScope(s) !== undefined;

const V2_PERMISSIONS = (() => {
  const out: string[] = [];
  for (let mask = 1; mask < 32; mask++) out.push([...'cruds'].filter((_, i) => mask & (1 << i)).join(''));
  return out;
})();

/** Every resource scope the server knows, written out (so oidc-provider can match them as strings). */
export const ALL_RESOURCE_SCOPES: readonly string[] = SCOPE_CONTEXTS.flatMap((c) =>
  ['*', ...RESOURCE_TYPES].flatMap((r) =>
    ['read', 'write', '*', ...V2_PERMISSIONS].map((p) => `${c}/${r}.${p}`),
  ),
);

/** The resource scopes a client registered with `scope` may be given: its own and every narrower form. */
export function resourceScopesAllowed(registeredScope: string | undefined): string[] {
  const granted = splitScope(registeredScope)
    .map(parseSmartScope)
    .filter((s): s is SmartScope => s !== undefined);
  return ALL_RESOURCE_SCOPES.filter((text) => {
    const wanted = parseSmartScope(text) as SmartScope;
    return granted.some((g) => scopeCovers(g, wanted));
  });
}

export const splitScope = (scope: string | undefined): string[] =>
  (scope ?? '').split(' ').filter((s) => s.length > 0);

/** Representative scopes for discovery documents (every v2 combination would be hundreds). */
export const SCOPES_SUPPORTED: readonly string[] = [
  ...STATIC_SCOPES,
  ...SCOPE_CONTEXTS.flatMap((c) => [
    `${c}/*.read`,
    `${c}/Observation.read`,
    `${c}/*.rs`,
    `${c}/Observation.rs`,
  ]),
];

const WHO: Record<string, string> = {
  patient: 'your own',
  user: 'the',
  system: 'all',
};

const RESOURCE_WORDS: Record<string, string> = {
  '*': 'health records',
  Patient: 'patient details',
  Observation: 'measurements (vital signs, waveforms, activity)',
  Flag: 'alarms',
  Communication: 'messages',
  Consent: 'consent choices',
  AuditEvent: 'access history',
  Device: 'devices',
  CareTeam: 'care teams',
  AlarmSettings: 'alarm settings',
};

/** A scope in plain words, for the consent page. */
export function describeScope(scope: string): string {
  switch (scope) {
    case 'openid':
      return 'Know who you are (your account id)';
    case 'fhirUser':
      return 'Know which person record is yours';
    case 'launch/patient':
      return 'Know which patient record to open (yours)';
    case 'offline_access':
      return 'Keep access when you are not using the app, until you revoke it';
  }
  const s = parseSmartScope(scope);
  if (s === undefined) return scope;
  const p = s.permissions;
  const verbs = [
    p.has('r') || p.has('s') ? 'see' : '',
    p.has('c') ? 'add' : '',
    p.has('u') ? 'change' : '',
    p.has('d') ? 'delete' : '',
  ].filter((v) => v !== '');
  const what = RESOURCE_WORDS[s.resourceType] ?? s.resourceType;
  const whose = s.context === 'user' ? 'you may see as a user' : `of ${WHO[s.context]} records`;
  const words = `${verbs.join(', ')} ${what}`;
  return `${words.charAt(0).toUpperCase()}${words.slice(1)} (${s.context === 'user' ? `the ones ${whose}` : whose})`;
}
