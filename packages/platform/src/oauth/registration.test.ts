/** The client registration body and SMART scope helpers: outside input, checked by example and by property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { GRANT_TYPES, parseClientRegistration } from './registration.ts';
import { withConsentForOffline } from './routes.ts';
import { describeScope, resourceScopesAllowed, splitScope } from './scopes.ts';

const problem = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpProblem) return e.problem;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('client registration', () => {
  it('accepts the three kinds of client', () => {
    expect(
      parseClientRegistration({
        name: ' App ',
        redirectUris: ['https://app.example/cb'],
        grantTypes: ['authorization_code', 'refresh_token'],
        scope: 'openid offline_access patient/*.read',
        public: true,
      }),
    ).toEqual({
      name: 'App',
      redirectUris: ['https://app.example/cb'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access patient/*.read',
      public: true,
    });
    expect(
      parseClientRegistration({ name: 'S', grantTypes: ['client_credentials'], scope: 'system/*.rs' }).public,
    ).toBe(false);
  });

  it('refuses inconsistent clients, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ grantTypes: ['client_credentials'], scope: 'system/*.read' }, '/name'],
      [{ name: 'a', grantTypes: [], scope: 'system/*.read' }, '/grantTypes'],
      [{ name: 'a', grantTypes: ['implicit'], scope: 'system/*.read' }, '/grantTypes'],
      [{ name: 'a', grantTypes: ['authorization_code'], scope: 'openid' }, '/redirectUris'],
      [
        {
          name: 'a',
          grantTypes: ['authorization_code'],
          redirectUris: ['http://app.example/cb'],
          scope: 'openid',
        },
        '/redirectUris/0',
      ],
      [{ name: 'a', grantTypes: ['client_credentials'], scope: 'patient/*.read' }, '/scope'],
      [{ name: 'a', grantTypes: ['client_credentials'], scope: 'system/*.read', public: true }, '/public'],
      [
        {
          name: 'a',
          grantTypes: ['client_credentials'],
          scope: 'system/*.read',
          jwks: { keys: [{ kty: 'oct', k: 'x' }] },
        },
        '/jwks/keys/0/kty',
      ],
      [
        {
          name: 'a',
          grantTypes: ['authorization_code'],
          redirectUris: ['https://a.example/cb'],
          scope: 'openid offline_access',
        },
        '/scope',
      ],
    ];
    for (const [body, field] of cases)
      expect(problem(() => parseClientRegistration(body))).toMatchObject({ status: 400, field });
  });

  it('never throws anything but a 400 on any input, and what it accepts is consistent (property)', () => {
    const scopeWord = fc.constantFrom(
      'openid',
      'fhirUser',
      'launch/patient',
      'offline_access',
      'patient/*.read',
      'user/Observation.rs',
      'system/*.read',
      'system/Flag.cruds',
      'bogus',
      '',
    );
    const body = fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 120 }), fc.integer()),
        grantTypes: fc.oneof(fc.subarray([...GRANT_TYPES, 'implicit']), fc.string()),
        redirectUris: fc.oneof(
          fc.array(
            fc.constantFrom(
              'https://a.example/cb',
              'http://127.0.0.1:8/cb',
              'http://evil.example/cb',
              'nope',
              'https://a.example/#x',
            ),
            { maxLength: 3 },
          ),
          fc.constant(undefined),
        ),
        scope: fc.oneof(
          fc.array(scopeWord, { maxLength: 5 }).map((w) => w.join(' ')),
          fc.anything(),
        ),
        public: fc.oneof(fc.boolean(), fc.constant(undefined), fc.string()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(body, fc.anything()), (b) => {
        let r: ReturnType<typeof parseClientRegistration>;
        try {
          r = parseClientRegistration(b);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpProblem);
          expect((e as HttpProblem).problem.status).toBe(400);
          return;
        }
        const code = r.grantTypes.includes('authorization_code');
        expect(r.redirectUris.length > 0).toBe(code);
        expect(r.public && r.grantTypes.includes('client_credentials')).toBe(false);
        for (const s of splitScope(r.scope))
          if (s.startsWith('system/')) expect(r.grantTypes).toContain('client_credentials');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('scopes', () => {
  it('allows a client its registered scopes and every narrower form, nothing wider', () => {
    const allowed = resourceScopesAllowed('patient/*.read system/Observation.rs');
    expect(allowed).toContain('patient/Observation.read');
    expect(allowed).toContain('patient/Flag.rs');
    expect(allowed).toContain('system/Observation.r');
    expect(allowed).not.toContain('patient/*.write');
    expect(allowed).not.toContain('user/Observation.read');
    expect(allowed).not.toContain('system/Flag.rs');
    expect(resourceScopesAllowed(undefined)).toEqual([]);
  });

  it('says what a scope allows in plain words', () => {
    expect(describeScope('patient/Observation.read')).toBe(
      'See measurements (vital signs, waveforms, activity) (of your own records)',
    );
    expect(describeScope('offline_access')).toMatch(/until you revoke/);
  });

  it('asks for consent when offline access is asked without a prompt', () => {
    expect(withConsentForOffline('/auth?scope=openid%20offline_access&x=1')).toBe(
      '/auth?scope=openid+offline_access&x=1&prompt=consent',
    );
    expect(withConsentForOffline('/auth?scope=openid')).toBe('/auth?scope=openid');
    expect(withConsentForOffline('/auth?scope=offline_access&prompt=login')).toBe(
      '/auth?scope=offline_access&prompt=login',
    );
    expect(withConsentForOffline('/token?scope=offline_access')).toBe('/token?scope=offline_access');
  });
});
