import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activeGrants,
  CATEGORIES,
  type Consent,
  consentFromForm,
  consentSummary,
  endOfLocalDay,
  formFromConsent,
  grantBody,
  isHiddenFrom,
  withEveryone,
  withPerson,
} from './consent.ts';

describe('consent form ↔ the platform consent', () => {
  it('reads restrictions per category, for everyone and per person', () => {
    const form = formFromConsent({
      restrictions: [
        { categories: ['messages', 'demographics'] },
        { categories: ['vital-signs', 'messages'], recipients: ['u2', 'u1'] },
        { categories: ['alarms'], recipients: ['u1'] },
      ],
      researchUse: true,
      version: 4,
    });
    expect(form).toEqual({
      everyone: ['demographics', 'messages'],
      people: [
        { userId: 'u1', categories: ['vital-signs', 'alarms'] },
        { userId: 'u2', categories: ['vital-signs'] },
      ],
      researchUse: true,
      version: 4,
    });
  });

  it('writes one restriction for everyone and one per distinct set hidden from people', () => {
    const body = consentFromForm({
      everyone: ['messages'],
      people: [
        { userId: 'u3', categories: ['alarms', 'vital-signs'] },
        { userId: 'u1', categories: ['vital-signs', 'alarms', 'messages'] },
        { userId: 'u2', categories: ['waveforms'] },
        { userId: 'u4', categories: ['messages'] },
      ],
      researchUse: false,
      version: 2,
    });
    expect(body).toEqual({
      restrictions: [
        { categories: ['messages'] },
        { categories: ['vital-signs', 'alarms'], recipients: ['u1', 'u3'] },
        { categories: ['waveforms'], recipients: ['u2'] },
      ],
      researchUse: false,
      version: 2,
    });
    expect(consentFromForm(formFromConsent({ restrictions: [], researchUse: false }))).toEqual({
      restrictions: [],
      researchUse: false,
      version: 0,
    });
  });

  it('keeps exactly who may see what through a round trip (any consent)', () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    const restriction = fc.record(
      {
        categories: fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1 }),
        recipients: fc.uniqueArray(fc.constantFrom(...users), { minLength: 1 }),
      },
      { requiredKeys: ['categories'] },
    );
    fc.assert(
      fc.property(fc.array(restriction, { maxLength: 8 }), fc.boolean(), (restrictions, researchUse) => {
        const consent: Consent = { restrictions, researchUse, version: 1 };
        const back = consentFromForm(formFromConsent(consent));
        expect(back.researchUse).toBe(researchUse);
        expect(back.restrictions.length).toBeLessThanOrEqual(1 + 2 ** CATEGORIES.length);
        for (const u of [...users, 'someone-else'])
          for (const c of CATEGORIES)
            expect(isHiddenFrom(back.restrictions, u, c)).toBe(isHiddenFrom(restrictions, u, c));
        // The form of the written consent is the form it came from.
        expect(formFromConsent(back)).toEqual(formFromConsent(consent));
      }),
    );
  });

  it('changes one choice at a time, dropping people with nothing hidden', () => {
    let form = formFromConsent({ restrictions: [], researchUse: false, version: 1 });
    form = withEveryone(form, 'messages', true);
    form = withEveryone(form, 'demographics', true);
    expect(form.everyone).toEqual(['demographics', 'messages']);
    form = withPerson(form, 'u2', 'alarms', true);
    form = withPerson(form, 'u1', 'waveforms', true);
    expect(form.people.map((p) => p.userId)).toEqual(['u1', 'u2']);
    form = withPerson(form, 'u2', 'alarms', false);
    expect(form.people).toEqual([{ userId: 'u1', categories: ['waveforms'] }]);
    form = withEveryone(form, 'messages', false);
    expect(form.everyone).toEqual(['demographics']);
  });

  it('sums the consent up in words', () => {
    expect(consentSummary(formFromConsent({ restrictions: [], researchUse: false }))).toEqual([
      'Everyone caring for you can see all of your data.',
      'Your data is not used for research.',
    ]);
    const lines = consentSummary(
      formFromConsent({
        restrictions: [{ categories: ['messages'] }, { categories: ['alarms'], recipients: ['u1'] }],
        researchUse: true,
      }),
      (u) => (u === 'u1' ? 'Sam (caregiver)' : u),
    );
    expect(lines).toEqual([
      'Hidden from everyone caring for you: messages.',
      'Hidden from Sam (caregiver): alerts.',
      'Your data may be used for research, without your name.',
    ]);
  });
});

describe('caregiver grants', () => {
  const now = Date.UTC(2026, 5, 1);
  it('lists only grants in force', () => {
    const grants = [
      { id: 'a', caregiverUserId: 'c1', createdAt: '2026-01-01T00:00:00Z' },
      {
        id: 'b',
        caregiverUserId: 'c2',
        createdAt: '2026-01-01T00:00:00Z',
        revokedAt: '2026-02-01T00:00:00Z',
      },
      {
        id: 'c',
        caregiverUserId: 'c3',
        createdAt: '2026-01-01T00:00:00Z',
        until: new Date(now - 1).toISOString(),
      },
      {
        id: 'd',
        caregiverUserId: 'c4',
        createdAt: '2026-01-01T00:00:00Z',
        until: new Date(now + 1000).toISOString(),
      },
      { id: 'e', caregiverUserId: 'c5', createdAt: '2026-01-01T00:00:00Z', until: '2027-01-01T00:00:00Z' },
    ];
    expect(activeGrants(grants, now).map((g) => g.id)).toEqual(['a', 'd', 'e']);
  });

  it('sends categories only when not all are chosen, and the end of the chosen day', () => {
    expect(grantBody({ userId: ' c1 ', categories: [...CATEGORIES], until: '' })).toEqual({ userId: 'c1' });
    const body = grantBody({ userId: 'c1', categories: ['alarms', 'vital-signs'], until: '2026-07-04' });
    expect(body.categories).toEqual(['vital-signs', 'alarms']);
    const until = new Date(body.until!);
    expect([until.getFullYear(), until.getMonth(), until.getDate(), until.getHours()]).toEqual([
      2026, 6, 4, 23,
    ]);
    expect(endOfLocalDay('2026-02-30')).toBeUndefined();
    expect(endOfLocalDay('tomorrow')).toBeUndefined();
  });
});
