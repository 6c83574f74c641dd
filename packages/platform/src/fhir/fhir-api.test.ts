/**
 * The FHIR R4 API end to end on a real platform: readings from a real device over HTTPS, real accounts
 * signed in, the policy enforced per resource (allowed, and refused with 403 + an audit record), search
 * with every date prefix against a model, paging, $lastn, entered vitals, consent with versions, and
 * transaction Bundles (all or nothing). One test uses fhir-kit-client as a real FHIR client.
 */
import fc from 'fast-check';
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  provisionDevice,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
} from '../../test/harness.ts';
import { SESSION_COOKIE } from '../identity/cookies.ts';
import { type Browser, signedInPeople } from '../identity/testing.ts';
import { DATE_PREFIXES, matchesDate, parseDateCondition } from './search-params.ts';

const READINGS = 120;
const bp = (sys: number, dia: number) => ({
  resourceType: 'Observation',
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  effectiveDateTime: new Date().toISOString(),
  component: [
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      valueQuantity: { value: sys, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    },
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
      valueQuantity: { value: dia, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    },
  ],
});

describe.each(backends)('FHIR R4 API ($name)', (backend) => {
  let t: TestPlatform;
  let a: TestDevice;
  let b: TestDevice;
  const as: Record<string, { id: string; browser: Browser }> = {};
  /** Effective times of patient A's heart-rate Observations, as sent. */
  const times: number[] = [];
  const start = Date.now() - 50 * 60_000;

  const get = (path: string) => t.api('GET', path);
  const fhir = (
    who: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${t.platform.httpUrl}${path}`, {
      method,
      headers: {
        cookie: `${SESSION_COOKIE}=${as[who]!.browser.cookie}`,
        'x-requested-with': 'fetch',
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then(async (r) => ({ status: r.status, etag: r.headers.get('etag'), json: (await r.json()) as any }));
  const deniedFor = async (patientId: string) =>
    (await get(`/api/v1/admin/audit?patient=${patientId}&action=denied&limit=1000`)).body.items.map(
      (e: any) => `${e.actor}:${e.resourceType}`,
    );

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    a = await provisionDevice(t, 'fhir-dev-a', new Date(start - 60_000).toISOString(), 'bp-cuff');
    b = await provisionDevice(t, 'fhir-dev-b', new Date(start - 60_000).toISOString());
    const messages = Array.from({ length: READINGS }, (_, i) => {
      const ts = new Date(start + i * 20_000 + (i % 7) * 3).toISOString();
      times.push(Date.parse(ts));
      const vitals = [
        { code: 'heart-rate', value: 60 + (i % 40) },
        { code: 'spo2', value: 90 + (i % 10) },
        ...(i % 10 === 0
          ? [
              { code: 'bp-systolic', value: 110 + i / 10 },
              { code: 'bp-diastolic', value: 70 },
            ]
          : []),
      ];
      return a.sign(i + 1, { vitals }, ts);
    });
    for (let i = 0; i < messages.length; i += 40) {
      const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${a.id}/readings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token()}` },
        body: JSON.stringify({ messages: messages.slice(i, i + 40) }),
      });
      expect(res.status).toBe(200);
    }
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${b.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token()}` },
      body: JSON.stringify({ messages: [b.sign(1)] }),
    });
    expect(res.status).toBe(200);
    const base = t.platform.httpUrl;
    Object.assign(
      as,
      await signedInPeople(base, t.adminToken, [
        ['dr.in', ['clinician'], undefined],
        ['dr.out', ['clinician'], undefined],
        ['pat.a', ['patient'], a.patientId],
      ]),
    );
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 3' });
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as['dr.in']!.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${a.patientId}`);
  }, 120_000);
  afterAll(() => t?.close());

  it('pages through more than one page, both ways, without gaps or repeats', async () => {
    for (const sort of ['date', '-date']) {
      const seen: string[] = [];
      let url: string | undefined =
        `/fhir/R4/Observation?patient=${a.patientId}&code=8867-4&_count=50&_sort=${sort}`;
      let pages = 0;
      while (url) {
        const page = await get(url);
        expect(page.status).toBe(200);
        seen.push(...page.body.entry.map((e: any) => e.resource.effectiveDateTime));
        const next = page.body.link.find((l: any) => l.relation === 'next')?.url;
        url = next ? next.slice(t.platform.httpUrl.length) : undefined;
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toHaveLength(READINGS);
      const ms = seen.map(Date.parse);
      const sorted = [...ms].sort((x, y) => (sort === 'date' ? x - y : y - x));
      expect(ms).toEqual(sorted);
    }
    const count = await get(`/fhir/R4/Observation?patient=${a.patientId}&code=8867-4&_summary=count`);
    expect(count.body).toMatchObject({ resourceType: 'Bundle', total: READINGS });
  });

  it('answers every date prefix as the FHIR range rules say (property, against a model)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...DATE_PREFIXES),
        fc.integer({ min: -5, max: READINGS + 5 }),
        fc.constantFrom(16, 19, 23),
        fc.integer({ min: -2000, max: 2000 }),
        async (prefix, i, precision, jitter) => {
          const at = new Date(start + i * 20_000 + jitter).toISOString().slice(0, precision);
          const value = `${prefix}${at}Z`;
          const c = parseDateCondition(value);
          if (!c) throw new Error(value);
          const expected = times.filter((x) => matchesDate(x, c)).length;
          const res = await get(
            `/fhir/R4/Observation?patient=${a.patientId}&code=heart-rate&_summary=count&date=${encodeURIComponent(value)}`,
          );
          expect(res.status).toBe(200);
          expect(res.body.total, value).toBe(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('names the parameter at fault in an OperationOutcome', async () => {
    const bad = await get(`/fhir/R4/Observation?patient=${a.patientId}&date=xx2024`);
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect(bad.body.issue[0].expression).toEqual(['date']);
    const unknown = await get(`/fhir/R4/Observation?patinet=${a.patientId}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['patinet']);
    expect((await get('/fhir/R4/Device?colour=red')).body.issue[0].expression).toEqual(['colour']);
  });

  it('filters by category and _lastUpdated, and includes the device and the patient', async () => {
    const waves = await get(`/fhir/R4/Observation?patient=${a.patientId}&category=waveforms&_summary=count`);
    expect(waves.body.total).toBe(0);
    const vitals = await get(
      `/fhir/R4/Observation?patient=${a.patientId}&category=vital-signs&_summary=count`,
    );
    expect(vitals.body.total).toBe(READINGS * 2 + READINGS / 10);
    const recent = await get(
      `/fhir/R4/Observation?patient=${a.patientId}&_lastUpdated=gt2000&_summary=count`,
    );
    expect(recent.body.total).toBe(vitals.body.total);
    const included = await get(
      `/fhir/R4/Observation?patient=${a.patientId}&_count=3&_include=Observation:device&_include=Observation:patient`,
    );
    const modes = included.body.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}`);
    expect(modes).toEqual([
      'match:Observation',
      'match:Observation',
      'match:Observation',
      'include:Device',
      'include:Patient',
    ]);
  });

  it('$lastn gives the newest max per code', async () => {
    const res = await get(`/fhir/R4/Observation/$lastn?patient=${a.patientId}&max=2`);
    expect(res.status).toBe(200);
    const byCode = new Map<string, string[]>();
    for (const e of res.body.entry) {
      const code = e.resource.code.coding[0].code;
      byCode.set(code, [...(byCode.get(code) ?? []), e.resource.effectiveDateTime]);
    }
    const newest = [...times]
      .sort((x, y) => y - x)
      .slice(0, 2)
      .map((x) => new Date(x).toISOString());
    expect(byCode.get('8867-4')?.map((x) => new Date(x).toISOString())).toEqual(newest);
    expect(byCode.get('85354-9')).toHaveLength(2);
    expect((await get('/fhir/R4/Observation/$lastn?max=2')).body.issue[0].expression).toEqual(['patient']);
  });

  it('lets the care team read the patient, devices, care team and consent; refuses others (403, audited)', async () => {
    const p = await fhir('dr.in', 'GET', `/fhir/R4/Patient/${a.patientId}`);
    expect(p.status).toBe(200);
    expect(p.json.resourceType).toBe('Patient');
    const devices = await fhir('dr.in', 'GET', `/fhir/R4/Device?patient=${a.patientId}`);
    expect(devices.json.entry.map((e: any) => e.resource.identifier[0].value)).toEqual([a.id]);
    // Reading the device names who wears it: audited against that patient.
    const device = await fhir('dr.in', 'GET', `/fhir/R4/Device/${a.id}`);
    expect(device.json.patient).toEqual({ reference: `Patient/${a.patientId}` });
    const audited = (await get(`/api/v1/admin/audit?patient=${a.patientId}&limit=1000`)).body.items
      .filter((e: any) => e.resourceType === 'Device')
      .map((e: any) => `${e.actor}:${e.action}`);
    expect(audited).toEqual(expect.arrayContaining([`${as['dr.in']!.id}:read`, `${as['dr.in']!.id}:search`]));
    const teams = await fhir('dr.in', 'GET', `/fhir/R4/CareTeam?patient=${a.patientId}`);
    expect(teams.json.entry).toHaveLength(1);
    const staff = await fhir('dr.in', 'GET', '/fhir/R4/Practitioner');
    expect(staff.json.entry.map((e: any) => e.resource.id)).toContain(as['dr.in']!.id);
    expect(JSON.stringify(staff.json)).not.toMatch(/password|totp|dr\.in/);
    for (const path of [
      `/fhir/R4/Patient/${a.patientId}`,
      `/fhir/R4/Observation?patient=${a.patientId}`,
      `/fhir/R4/Device?patient=${a.patientId}`,
      `/fhir/R4/CareTeam?patient=${a.patientId}`,
      `/fhir/R4/Consent?patient=${a.patientId}`,
    ]) {
      const refused = await fhir('dr.out', 'GET', path);
      expect(refused.status, path).toBe(403);
      expect(refused.json.resourceType).toBe('OperationOutcome');
    }
    const own = await fhir('pat.a', 'GET', `/fhir/R4/Patient/${a.patientId}`);
    expect(own.status).toBe(200);
    expect((await fhir('pat.a', 'GET', `/fhir/R4/Patient/${b.patientId}`)).status).toBe(403);
    expect((await fhir('pat.a', 'GET', '/fhir/R4/Practitioner')).status).toBe(403);
    const denied = await deniedFor(a.patientId);
    for (const type of ['Patient', 'Observation', 'Device', 'CareTeam', 'Consent'])
      expect(denied).toContain(`${as['dr.out']!.id}:${type}`);
  });

  it('lets the patient create and update their consent, with versions (412 on a stale copy)', async () => {
    const consent = (categories: string[]) => ({
      resourceType: 'Consent',
      status: 'active',
      patient: { reference: `Patient/${a.patientId}` },
      provision: {
        type: 'permit',
        provision: [
          {
            type: 'deny',
            code: categories.map((code) => ({
              coding: [{ system: 'https://openiomt.org/fhir/CodeSystem/data-category', code }],
            })),
            actor: [{ reference: { identifier: { system: 'urn:openiomt:user', value: as['dr.out']!.id } } }],
          },
        ],
      },
    });
    const made = await fhir('pat.a', 'POST', '/fhir/R4/Consent', consent(['waveforms']));
    expect(made.status).toBe(201);
    expect(made.etag).toBe('W/"1"');
    const path = `/fhir/R4/Consent/${made.json.id}`;
    const updated = await fhir('pat.a', 'PUT', path, consent(['waveforms', 'activity']), {
      'if-match': 'W/"1"',
    });
    expect(updated.status).toBe(200);
    expect(updated.etag).toBe('W/"2"');
    const stale = await fhir('pat.a', 'PUT', path, consent(['activity']), { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    const invalid = await fhir('pat.a', 'PUT', path, consent(['colour']));
    expect(invalid.status).toBe(422);
    expect(invalid.json.issue[0].expression).toEqual(['Consent.provision.provision[0].code[0]']);
    expect((await fhir('dr.in', 'GET', path)).json.meta.versionId).toBe('2');
    expect((await fhir('dr.in', 'PUT', path, consent(['activity']))).status).toBe(403);
  });

  it('stores a blood pressure entered by the clinician: in search and $lastn; refusals name the element', async () => {
    const body = { ...bp(142, 91), subject: { reference: `Patient/${a.patientId}` } };
    const made = await fhir('dr.in', 'POST', '/fhir/R4/Observation', body);
    expect(made.status).toBe(201);
    expect(made.json.performer).toEqual([{ reference: `Practitioner/${as['dr.in']!.id}` }]);
    const last = await get(`/fhir/R4/Observation/$lastn?patient=${a.patientId}&code=85354-9`);
    expect(last.body.entry.map((e: any) => e.resource.id)).toEqual([made.json.id]);
    expect((await get(`/fhir/R4/Observation/${made.json.id}`)).body.component[0].valueQuantity.value).toBe(
      142,
    );
    const noDia = { ...body, component: [body.component[0]] };
    const refused = await fhir('dr.in', 'POST', '/fhir/R4/Observation', noDia);
    expect(refused.status).toBe(422);
    expect(refused.json.issue[0].expression).toEqual(['Observation.component']);
    const implausible = await fhir('dr.in', 'POST', '/fhir/R4/Observation', {
      ...bp(999, 80),
      subject: body.subject,
    });
    expect(implausible.json.issue[0].expression).toEqual(['Observation.component[0].valueQuantity.value']);
    expect((await fhir('dr.out', 'POST', '/fhir/R4/Observation', body)).status).toBe(403);
  });

  it('applies a transaction all or nothing, naming the entry at fault', async () => {
    const count = async () =>
      (await get(`/fhir/R4/Observation?patient=${b.patientId}&code=85354-9&_summary=count`)).body.total;
    const entry = (resource: unknown) => ({ resource, request: { method: 'POST', url: 'Observation' } });
    const subject = { reference: `Patient/${b.patientId}` };
    const before = await count();
    const bad = await t.api('POST', '/fhir/R4', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry({ ...bp(120, 80), subject }), entry({ ...bp(120, 80), subject, status: 'maybe' })],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.status']);
    expect(await count()).toBe(before);
    const good = await t.api('POST', '/fhir/R4', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry({ ...bp(120, 80), subject }), entry({ ...bp(125, 82), subject })],
    });
    expect(good.status).toBe(200);
    expect(good.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created']);
    expect(await count()).toBe(before + 2);
  });

  it('serves a real FHIR client (fhir-kit-client): search, read, $lastn, and a truthful CapabilityStatement', async () => {
    const client = new Client({ baseUrl: `${t.platform.httpUrl}/fhir/R4`, bearerToken: t.adminToken });
    const found = (await client.search({
      resourceType: 'Observation',
      searchParams: { patient: a.patientId, code: 'http://loinc.org|8867-4', _count: 5 },
    })) as any;
    expect(found.entry).toHaveLength(5);
    const next = (await client.nextPage({ bundle: found })) as any;
    expect(next.entry[0].resource.id).not.toBe(found.entry[0].resource.id);
    const patient = (await client.read({ resourceType: 'Patient', id: a.patientId })) as any;
    expect(patient.id).toBe(a.patientId);
    const lastn = (await client.operation({
      resourceType: 'Observation',
      name: '$lastn',
      method: 'GET',
      input: { patient: a.patientId, code: '8867-4' },
    })) as any;
    expect(lastn.entry).toHaveLength(1);
    const cap = (await client.capabilityStatement()) as any;
    const types = cap.rest[0].resource.map((r: any) => r.type);
    expect(types).toEqual(
      expect.arrayContaining(['Observation', 'Patient', 'Practitioner', 'CareTeam', 'Device', 'Consent']),
    );
  });
});
