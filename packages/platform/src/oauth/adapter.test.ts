/** oidc-provider's storage in our database (PGlite, and PostgreSQL when configured): the Adapter contract. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { StoreAdapter } from './adapter.ts';

describe.each(storeBackends())('oidc-provider adapter on $name', ({ open }) => {
  let store: DisposableStore;
  const clock = { now: Date.UTC(2031, 0, 1) };
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const adapter = (model: string) => new StoreAdapter(store.db, model, () => clock.now);

  it('finds by id, uid and user code; consume marks it; destroy removes it', async () => {
    const a = adapter('Interaction');
    await a.upsert('i1', { uid: 'u1', userCode: 'UC-1', kind: 'Interaction', nested: { x: [1, 2] } }, 60);
    expect(await a.find('i1')).toEqual({
      uid: 'u1',
      userCode: 'UC-1',
      kind: 'Interaction',
      nested: { x: [1, 2] },
    });
    expect((await a.findByUid('u1'))?.kind).toBe('Interaction');
    expect((await a.findByUserCode('UC-1'))?.kind).toBe('Interaction');
    expect(await adapter('Session').find('i1')).toBeUndefined();
    await a.consume('i1');
    expect((await a.find('i1'))?.consumed).toBe(Math.floor(clock.now / 1000));
    await a.upsert('i1', { uid: 'u1' }, 60);
    expect((await a.find('i1'))?.consumed).toBeUndefined();
    await a.destroy('i1');
    expect(await a.find('i1')).toBeUndefined();
  });

  it('honours expiry', async () => {
    const a = adapter('AuthorizationCode');
    await a.upsert('c1', { grantId: 'g0' }, 10);
    expect(await a.find('c1')).toBeDefined();
    clock.now += 10_001;
    expect(await a.find('c1')).toBeUndefined();
  });

  it('revokes every artifact of a grant, of that model only', async () => {
    const codes = adapter('AuthorizationCode');
    const refresh = adapter('RefreshToken');
    await codes.upsert('c2', { grantId: 'g1' }, 60);
    await refresh.upsert('r2', { grantId: 'g1' }, 60);
    await refresh.upsert('r3', { grantId: 'g2' }, 60);
    await refresh.revokeByGrantId('g1');
    expect(await refresh.find('r2')).toBeUndefined();
    expect(await refresh.find('r3')).toBeDefined();
    expect(await codes.find('c2')).toBeDefined();
  });
});
