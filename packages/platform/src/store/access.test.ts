import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from './testing.ts';
import { StoreError } from './types.ts';

describe.each(storeBackends())('access facts on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('care teams: who cares for whom', async () => {
    const [a, b] = [await store.patients.create({}), await store.patients.create({})];
    const ward = await store.access.createCareTeam('Ward 7');
    await store.access.setMembership(ward.id, 'member', 'nurse-1', true);
    await store.access.setMembership(ward.id, 'patient', a.id, true);
    const icu = await store.access.createCareTeam('ICU');
    await store.access.setMembership(icu.id, 'member', 'nurse-1', true);
    await store.access.setMembership(icu.id, 'patient', b.id, true);
    expect(await store.access.patientsInCareOf('nurse-1')).toEqual(new Set([a.id, b.id]));
    expect(await store.access.patientsInCareOf('nurse-2')).toEqual(new Set());
    await store.access.setMembership(icu.id, 'patient', b.id, false);
    expect(await store.access.patientsInCareOf('nurse-1')).toEqual(new Set([a.id]));
    expect(await store.access.careUsersOf(a.id)).toEqual(['nurse-1']);
    await expect(store.access.setMembership(ward.id, 'patient', 'no-such-patient', true)).rejects.toSatisfy(
      (e) => e instanceof StoreError && e.code === 'not-found',
    );
  });

  it('consent changes are versioned: a change from a stale copy is refused', async () => {
    const p = await store.patients.create({});
    expect(await store.access.consent(p.id)).toBeUndefined();
    const first = await store.access.putConsent(
      p.id,
      { restrictions: [{ categories: ['waveforms'] }], researchUse: false },
      'patient-user',
      0,
    );
    expect(first).toMatchObject({
      version: 1,
      researchUse: false,
      restrictions: [{ categories: ['waveforms'] }],
    });
    const second = await store.access.putConsent(
      p.id,
      { restrictions: [], researchUse: true },
      'patient-user',
      1,
    );
    expect(second.version).toBe(2);
    await expect(
      store.access.putConsent(p.id, { restrictions: [], researchUse: false }, 'patient-user', 1),
    ).rejects.toSatisfy((e) => e instanceof StoreError && e.code === 'conflict');
  });

  it('caregiver grants and break-glass are time-boxed', async () => {
    const p = await store.patients.create({});
    const g = await store.access.grant({
      patientId: p.id,
      caregiverUserId: 'carer-1',
      categories: ['vital-signs'],
    });
    expect(await store.access.grantsOfCaregiver('carer-1')).toEqual([g]);
    await store.access.revokeGrant(g.id, p.id);
    expect(await store.access.grantsOfCaregiver('carer-1')).toEqual([]);
    const glass = await store.access.openBreakGlass({
      userId: 'dr-2',
      patientId: p.id,
      reason: 'cardiac arrest on ward 3',
      minutes: 30,
    });
    const inside = new Date(Date.parse(glass.openedAt) + 60_000).toISOString();
    const after = new Date(Date.parse(glass.until) + 1).toISOString();
    expect(await store.access.breakGlassOf('dr-2', p.id, inside)).toEqual(glass);
    expect(await store.access.breakGlassOf('dr-2', p.id, after)).toBeUndefined();
    // The database refuses a break-glass without a real reason or longer than four hours.
    await expect(
      store.access.openBreakGlass({ userId: 'dr-2', patientId: p.id, reason: 'x', minutes: 30 }),
    ).rejects.toThrow();
    await expect(
      store.access.openBreakGlass({
        userId: 'dr-2',
        patientId: p.id,
        reason: 'a long enough reason',
        minutes: 300,
      }),
    ).rejects.toThrow();
  });
});
