/**
 * The people directory on a real platform (HTTP on a free port, real store: PGlite, and PostgreSQL when
 * configured), asked by people really signed in (password, TOTP for staff) and by the administrator token.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { type Browser, signedInAs } from './testing.ts';

describe.each(backends)('GET /api/v1/people ($name)', (backend) => {
  let t: TestPlatform;
  let patientA = '';
  let patientB = '';
  const id: Record<string, string> = {};
  const as: Record<string, Browser> = {};

  /** An account with a display name, made by the administrator; its id is kept under its username. */
  const account = async (username: string, displayName: string, roles: string[], patientId?: string) => {
    const made = await t.api('POST', '/api/v1/admin/users', {
      username,
      displayName,
      roles,
      ...(patientId ? { patientId } : {}),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    id[username] = made.body.user.id;
  };
  const ask = async (who: string, query: string) => {
    const r = await as[who]!.get(`/api/v1/people${query}`);
    return { status: r.status, json: r.json, names: (r.json?.items ?? []).map((p: any) => p.username) };
  };
  const admin = async (query: string) => {
    const r = await t.api('GET', `/api/v1/people${query}`);
    return { ...r, names: (r.body?.items ?? []).map((p: any) => p.username) };
  };

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    patientA = (await t.api('POST', '/api/v1/admin/patients', {})).body.id;
    patientB = (await t.api('POST', '/api/v1/admin/patients', {})).body.id;
    const patientC = (await t.api('POST', '/api/v1/admin/patients', {})).body.id;
    await account('ana.silva', 'Ana Silva', ['clinician']);
    await account('b.silveira', 'Bruno SILVEIRA', ['nurse']);
    await account('s.costa', 'Silvana Costa', ['nurse']);
    await account('dr.mendes', 'Carla Mendes', ['clinician']);
    await account('z.angstrom', 'Zoë ÅNGSTRÖM', ['nurse']);
    await account('silvia.old', 'Silvia Old', ['clinician']);
    await account('silvio.admin', 'Silvio Admin', ['administrator']);
    await account('silva.research', 'Rui Silva', ['researcher']);
    await account('rita.carer', 'Rita Silva', ['caregiver']);
    await account('tom.carer', 'Tom Silva', ['caregiver']);
    await account('lia.carer', 'Lia Silva', ['caregiver']);
    await account('paula.silva', 'Paula Silva', ['patient'], patientB);
    await account('joana.silva', 'Joana Silva', ['patient', 'caregiver'], patientC);
    const base = t.platform.httpUrl;
    as.patient = (
      await signedInAs(base, t.adminToken, { username: 'pat.a', roles: ['patient'], patientId: patientA })
    ).browser;
    as.clinician = (
      await signedInAs(base, t.adminToken, { username: 'dr.asks', roles: ['clinician'] })
    ).browser;
    as.carer = (
      await signedInAs(base, t.adminToken, { username: 'carer.asks', roles: ['caregiver'] })
    ).browser;
    // Patient A shares with Rita and Joana now; with Lia they stopped sharing.
    for (const carer of ['rita.carer', 'joana.silva', 'lia.carer']) {
      const g = await t.api('POST', `/api/v1/patients/${patientA}/caregivers`, { userId: id[carer] });
      expect(g.status, JSON.stringify(g.body)).toBe(201);
      if (carer === 'lia.carer')
        expect((await t.api('DELETE', `/api/v1/patients/${patientA}/caregivers/${g.body.id}`)).status).toBe(
          200,
        );
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('finds people by part of their display name, whatever the case, names that begin with it first', async () => {
    const r = await ask('patient', '?q=SiLv');
    expect(r.status).toBe(200);
    expect(new Set(r.names)).toEqual(
      new Set(['ana.silva', 'b.silveira', 's.costa', 'silvia.old', 'rita.carer', 'joana.silva']),
    );
    const ana = r.json.items.find((p: any) => p.username === 'ana.silva');
    expect(ana).toEqual({
      id: id['ana.silva'],
      displayName: 'Ana Silva',
      username: 'ana.silva',
      roles: ['clinician'],
    });
    // Every item has exactly these members: no contact details, no sign-in state.
    for (const p of r.json.items)
      expect(Object.keys(p).sort()).toEqual(['displayName', 'id', 'roles', 'username']);
    const byAna = await ask('patient', '?q=ana');
    // "Ana Silva" begins with it; "Joana Silva" and "Silvana Costa" contain it (then by name).
    expect(byAna.names).toEqual(['ana.silva', 'joana.silva', 's.costa']);
    // Letters beyond ASCII are folded too, and a name typed in another Unicode form is the same name.
    expect((await ask('patient', `?q=${encodeURIComponent('zoe\u0308 ångström')}`)).names).toEqual([
      'z.angstrom',
    ]);
    // By part of the username too.
    expect((await ask('clinician', '?q=MENDES')).names).toEqual(['dr.mendes']);
  });

  it('respects the role filter and the limit', async () => {
    const nurses = await admin('?q=silv&role=nurse');
    expect(nurses.status).toBe(200);
    expect(new Set(nurses.names)).toEqual(new Set(['b.silveira', 's.costa']));
    expect((await admin('?q=silv&limit=2')).body.items).toHaveLength(2);
    expect((await admin('?q=silv')).body.items.length).toBeGreaterThan(2);
    const all = await admin('?q=silv&limit=25');
    expect(new Set(all.names)).toEqual(
      new Set([
        'ana.silva',
        'b.silveira',
        's.costa',
        'silvia.old',
        'silvio.admin',
        'silva.research',
        'rita.carer',
        'tom.carer',
        'lia.carer',
        'joana.silva',
      ]),
    );
  });

  it('names the parameter at fault', async () => {
    for (const [query, field] of [
      ['', '/q'],
      ['?q=s', '/q'],
      ['?q=%20s%20', '/q'],
      ['?q=an&role=doctor', '/role'],
      ['?q=an&limit=26', '/limit'],
      ['?q=an&limit=0', '/limit'],
      ['?q=an&q=bo', '/q'],
    ] as const) {
      const r = await ask('patient', query);
      expect(r.status, query).toBe(400);
      expect(r.json.field, query).toBe(field);
    }
  });

  it('never finds a disabled account', async () => {
    expect((await ask('patient', '?q=silvia')).names).toEqual(['silvia.old']);
    expect((await t.api('POST', `/api/v1/admin/users/${id['silvia.old']}/disable`)).status).toBe(200);
    expect((await ask('patient', '?q=silvia')).names).toEqual([]);
    expect((await admin('?q=silvia.old')).names).toEqual([]);
  });

  it('refuses anonymous callers with 401', async () => {
    const res = await fetch(`${t.platform.httpUrl}/api/v1/people?q=silva`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('lets a patient find no other patient', async () => {
    const patients = await ask('patient', '?q=silva&role=patient');
    expect(patients.status).toBe(403);
    expect(patients.json.detail).toBe('the people directory lists no patients');
    expect((await ask('patient', '?q=paula')).names).toEqual([]);
    expect((await ask('patient', '?q=paula.silva')).names).toEqual([]);
    // Their caregiver who is also a patient is shown as a caregiver only.
    const joana = (await ask('patient', '?q=joana')).json.items;
    expect(joana).toEqual([expect.objectContaining({ username: 'joana.silva', roles: ['caregiver'] })]);
    // The refusal is a security event.
    const events = await t.api('GET', '/api/v1/admin/security-events?kind=access-denied');
    expect(events.body.items.some((e: any) => String(e.detail).includes('lists no patients'))).toBe(true);
  });

  it("finds a patient's own caregivers by name, any other caregiver only by exact username", async () => {
    const carers = await ask('patient', '?q=carer&role=caregiver');
    expect(carers.names).toEqual(['rita.carer']);
    expect((await ask('patient', '?q=tom')).names).toEqual([]);
    expect((await ask('patient', '?q=TOM.CARER')).names).toEqual(['tom.carer']);
    // A grant the patient stopped no longer makes Lia theirs.
    expect((await ask('patient', '?q=lia')).names).toEqual([]);
    expect((await ask('patient', '?q=lia.carer')).names).toEqual(['lia.carer']);
    expect((await ask('patient', '?q=silvio.admin')).names).toEqual([]);
    expect((await ask('patient', '?q=silva&role=administrator')).status).toBe(403);
  });

  it('gives staff and caregivers the clinicians and nurses only', async () => {
    for (const who of ['clinician', 'carer']) {
      const r = await ask(who, '?q=silv');
      expect(new Set(r.names), who).toEqual(new Set(['ana.silva', 'b.silveira', 's.costa']));
      expect((await ask(who, '?q=rita.carer')).names, who).toEqual([]);
      expect((await ask(who, '?q=silv&role=caregiver')).status, who).toBe(403);
    }
  });

  it("looks up by ids exactly whom the search would find: a patient's clinicians and own caregivers", async () => {
    // Tom cares for patient B, not for patient A.
    const g = await t.api('POST', `/api/v1/patients/${patientB}/caregivers`, { userId: id['tom.carer'] });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const asked = [
      'rita.carer',
      'ana.silva',
      'tom.carer',
      'lia.carer',
      'paula.silva',
      'silvio.admin',
      'joana.silva',
      'b.silveira',
    ].map((u) => id[u]);
    const r = await ask('patient', `?ids=${[...asked, unknown, 'not-a-uuid', id['ana.silva']].join(',')}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    // In the order asked, each once; Joana (also a patient) is shown as a caregiver only.
    expect(r.json.items).toEqual([
      { id: id['rita.carer'], displayName: 'Rita Silva', username: 'rita.carer', roles: ['caregiver'] },
      { id: id['ana.silva'], displayName: 'Ana Silva', username: 'ana.silva', roles: ['clinician'] },
      { id: id['joana.silva'], displayName: 'Joana Silva', username: 'joana.silva', roles: ['caregiver'] },
      { id: id['b.silveira'], displayName: 'Bruno SILVEIRA', username: 'b.silveira', roles: ['nurse'] },
    ]);
    // Another patient's caregiver, and Tom by his username: found by the search, never by id.
    expect((await ask('patient', '?q=tom.carer')).names).toEqual(['tom.carer']);
    expect((await ask('patient', `?ids=${id['tom.carer']}`)).json).toEqual({ items: [] });
    expect((await ask('patient', `?ids=${id['paula.silva']}`)).json).toEqual({ items: [] });
  });

  it('looks up by ids for an administrator anyone but patients, for staff the clinicians and nurses', async () => {
    const ids = ['tom.carer', 'silvio.admin', 'silva.research', 'paula.silva', 'joana.silva', 's.costa'];
    const byAdmin = await admin(`?ids=${ids.map((u) => id[u]).join(',')}`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.names).toEqual(['tom.carer', 'silvio.admin', 'silva.research', 'joana.silva', 's.costa']);
    expect(byAdmin.body.items[3].roles).toEqual(['caregiver']);
    for (const who of ['clinician', 'carer']) {
      const r = await ask(who, `?ids=${ids.map((u) => id[u]).join(',')}`);
      expect(r.names, who).toEqual(['s.costa']);
    }
  });

  it('leaves a disabled account out of a lookup', async () => {
    await account('gone.nurse', 'Gone Nurse', ['nurse']);
    const both = `?ids=${id['gone.nurse']},${id['dr.mendes']}`;
    expect((await ask('patient', both)).names).toEqual(['gone.nurse', 'dr.mendes']);
    expect((await t.api('POST', `/api/v1/admin/users/${id['gone.nurse']}/disable`)).status).toBe(200);
    expect((await ask('patient', both)).names).toEqual(['dr.mendes']);
    expect((await admin(both)).names).toEqual(['dr.mendes']);
  });

  it('names ids or q when a lookup is asked wrongly', async () => {
    const fiftyOne = Array.from({ length: 51 }, (_, i) => `user${i}`).join(',');
    for (const [query, field] of [
      ['?ids=', '/ids'],
      [`?q=ana&ids=${id['ana.silva']}`, '/ids'],
      ['?ids=a,,b', '/ids'],
      ['?ids=a%20b', '/ids'],
      [`?ids=${fiftyOne}`, '/ids'],
      ['?ids=a&ids=b', '/ids'],
      ['?ids=a&role=nurse', '/role'],
      ['?ids=a&limit=5', '/limit'],
      ['?role=nurse', '/q'],
    ] as const) {
      const r = await ask('patient', query);
      expect(r.status, query).toBe(400);
      expect(r.json.field, query).toBe(field);
    }
    const anonymous = await fetch(`${t.platform.httpUrl}/api/v1/people?ids=${id['ana.silva']}`);
    expect(anonymous.status).toBe(401);
  });

  it('answers as docs/openapi.yaml says', async () => {
    const validator = new Validator();
    const doc = readFileSync(
      fileURLToPath(new URL('../../../../docs/openapi.yaml', import.meta.url)),
      'utf8',
    );
    expect((await validator.validate(doc)).valid).toBe(true);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ ...validator.specification, $id: 'urn:openiomt:people-doc' });
    const op = '#/paths/~1api~1v1~1people/get/responses';
    const ok = ajv.compile({ $ref: `urn:openiomt:people-doc${op}/200/content/application~1json/schema` });
    const problem = ajv.compile({ $ref: 'urn:openiomt:people-doc#/components/schemas/Problem' });
    const found = await admin('?q=silv&limit=25');
    expect(found.body.items.length).toBeGreaterThan(5);
    expect(ok(found.body) ? [] : ok.errors).toEqual([]);
    const looked = await admin(`?ids=${Object.values(id).join(',')}`);
    expect(looked.body.items.length).toBeGreaterThan(5);
    expect(ok(looked.body) ? [] : ok.errors).toEqual([]);
    const refused = await ask('patient', '?q=s');
    expect(problem(refused.json) ? [] : problem.errors).toEqual([]);
  });

  it('is under the global rate limit', async () => {
    const res = await fetch(`${t.platform.httpUrl}/api/v1/people?q=silva`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBe('6000');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(6000);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
