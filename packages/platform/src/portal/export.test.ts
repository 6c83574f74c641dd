/**
 * The patient's data export on a real platform: readings from a real device over MQTT, real accounts
 * signed in, the Bundle downloaded over HTTP and checked against the FHIR R4 schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirValidator, loadFhirValidator } from '../../../core/src/fhir/fhir-schema.ts';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from '../../test/harness.ts';
import { SESSION_COOKIE } from '../identity/cookies.ts';
import { type Browser, signedInAs } from '../identity/testing.ts';
import { sampleKey, sampleReading } from '../store/sample-readings.ts';

const READINGS = 6;

describe.each(backends)('patient data export ($name)', (backend) => {
  let t: TestPlatform;
  let patientId = '';
  let fhir: FhirValidator;
  const as: Record<string, { id: string; browser: Browser }> = {};

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    fhir = loadFhirValidator();
    const device = await provisionDevice(t, 'export-dev');
    patientId = device.patientId;
    const client = await device.connect(5);
    for (let seq = 1; seq <= READINGS; seq++) {
      const vitals = [
        { code: 'heart-rate', value: 70 + seq },
        { code: 'steps', value: 100 * seq },
      ];
      expect(await publish(client, topicOf(device.id), device.sign(seq, { vitals }))).toBe(0);
    }
    client.end();
    const base = t.platform.httpUrl;
    for (const [username, roles, patient] of [
      ['exp.patient', ['patient'], patientId],
      ['exp.dr.in', ['clinician'], undefined],
      ['exp.dr.out', ['clinician'], undefined],
      ['exp.nurse.in', ['nurse'], undefined],
    ] as const)
      as[username] = await signedInAs(base, t.adminToken, {
        username,
        roles: [...roles],
        ...(patient ? { patientId: patient } : {}),
      });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Export ward' });
    for (const who of ['exp.dr.in', 'exp.nurse.in'])
      await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as[who]!.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${patientId}`);
    const sent = await as['exp.patient']!.browser.post(`/api/v1/patients/${patientId}/messages`, {
      body: 'Is my heart rate fine?',
    });
    expect(sent.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The export as a browser downloads it: status, headers and the parsed body. */
  async function download(who: string | undefined, patient = patientId) {
    const browser = who ? as[who]!.browser : undefined;
    const res = await fetch(`${t.platform.httpUrl}/api/v1/patients/${patient}/export`, {
      headers: browser?.cookie ? { cookie: `${SESSION_COOKIE}=${browser.cookie}` } : {},
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      disposition: res.headers.get('content-disposition'),
      bundle: JSON.parse(text) as any,
    };
  }
  const ofType = (bundle: any, type: string): any[] =>
    bundle.entry.map((e: { resource: unknown }) => e.resource).filter((r: any) => r.resourceType === type);

  it('gives the patient all their data as a FHIR collection Bundle that validates', async () => {
    const got = await download('exp.patient');
    expect(got.status).toBe(200);
    expect(got.type).toMatch(/^application\/fhir\+json/);
    const date = new Date().toISOString().slice(0, 10);
    expect(got.disposition).toBe(`attachment; filename="openiomt-${patientId}-${date}.json"`);
    const { bundle } = got;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(fhir.errors(bundle)).toBeUndefined();
    const urls = new Set<string>();
    for (const e of bundle.entry) {
      expect(e.fullUrl).toBe(`${t.platform.httpUrl}/fhir/R4/${e.resource.resourceType}/${e.resource.id}`);
      urls.add(e.fullUrl);
      expect(fhir.errors(e.resource)).toBeUndefined();
    }
    expect(urls.size).toBe(bundle.entry.length);
    // Every Observation that was sent, and the Provenance (device signature) of every reading.
    expect(ofType(bundle, 'Observation')).toHaveLength(READINGS * 2);
    expect(ofType(bundle, 'Provenance')).toHaveLength(READINGS);
    // Each as the FHIR API serves it, meta.lastUpdated included.
    const [observation] = ofType(bundle, 'Observation');
    expect(observation.meta.lastUpdated).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await t.api('GET', `/fhir/R4/Observation/${observation.id}`)).body).toEqual(observation);
    const provenance = ofType(bundle, 'Provenance').find((p: any) =>
      p.target.some((r: any) => r.reference === `Observation/${observation.id}`),
    );
    expect(provenance.meta.lastUpdated).toBe(new Date(provenance.recorded).toISOString());
    const served = await t.api('GET', `/fhir/R4/Provenance?target=Observation/${observation.id}`);
    expect(served.body.entry[0].resource).toEqual(provenance);
    expect(ofType(bundle, 'Patient')).toHaveLength(1);
    const [message] = ofType(bundle, 'Communication');
    expect(message).toMatchObject({
      status: 'completed',
      payload: [{ contentString: 'Is my heart rate fine?' }],
      sender: { reference: `Patient/${patientId}` },
    });
    // One audit record for the whole export.
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=export`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: as['exp.patient']!.id,
      resourceType: 'Bundle',
      outcome: 'success',
    });
  });

  it("includes the patient's consent, and leaves out what it withholds from the care team", async () => {
    const put = await as['exp.patient']!.browser.request('PUT', `/api/v1/patients/${patientId}/consent`, {
      restrictions: [{ categories: ['activity'] }],
      researchUse: false,
    });
    expect(put.status).toBe(200);
    const mine = (await download('exp.patient')).bundle;
    expect(ofType(mine, 'Observation')).toHaveLength(READINGS * 2);
    const [consent] = ofType(mine, 'Consent');
    expect(fhir.errors(consent)).toBeUndefined();
    expect(consent.provision.provision[0]).toMatchObject({
      type: 'deny',
      code: [{ coding: [{ code: 'activity' }] }],
    });
    const clinician = await download('exp.dr.in');
    expect(clinician.status).toBe(200);
    const observations = ofType(clinician.bundle, 'Observation');
    expect(observations).toHaveLength(READINGS);
    expect(new Set(observations.map((o) => o.code.coding[0].code))).toEqual(new Set(['8867-4']));
    expect(ofType(clinician.bundle, 'Provenance')).toHaveLength(READINGS);
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=export`);
    expect(audit.body.items[0]).toMatchObject({
      actor: as['exp.dr.in']!.id,
      detail: { withheld: ['activity'] },
    });
    await as['exp.patient']!.browser.request('PUT', `/api/v1/patients/${patientId}/consent`, {
      restrictions: [],
      researchUse: false,
      version: put.json.version,
    });
  });

  it('refuses a clinician outside the care team and a nurse (403), and anyone anonymous (401)', async () => {
    const outsider = await download('exp.dr.out');
    expect(outsider.status).toBe(403);
    expect(outsider.bundle.detail).toBe('the patient is not in any of your care teams');
    const nurse = await download('exp.nurse.in');
    expect(nurse.status).toBe(403);
    expect(nurse.bundle.detail).toBe('a nurse may not export Observation');
    expect((await download(undefined)).status).toBe(401);
    // Another patient's record, and one that does not exist, are refused alike (no existence oracle).
    expect((await download('exp.patient', 'someone-else')).status).toBe(403);
    const denied = await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=denied`);
    expect(denied.body.items.map((r: { actor: string }) => r.actor)).toContain(as['exp.dr.out']!.id);
  });

  it('pages through a long history: every Observation once, every Provenance once, across pages', async () => {
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    const key = sampleKey();
    // One instant for all: the store orders them by id, so readings straddle the 1000-row pages.
    const ts = '2026-03-01T10:00:00.000Z';
    const readings = Array.from({ length: 250 }, (_, i) =>
      sampleReading({ deviceId: 'export-bulk', patientId: patient.body.id, seq: i + 1, key, ts }),
    );
    await t.platform.store.readings.commit(readings);
    const res = await fetch(`${t.platform.httpUrl}/api/v1/patients/${patient.body.id}/export`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as any;
    expect(ofType(bundle, 'Observation')).toHaveLength(250 * 5);
    expect(ofType(bundle, 'Provenance')).toHaveLength(250);
    expect(new Set(bundle.entry.map((e: { fullUrl: string }) => e.fullUrl)).size).toBe(bundle.entry.length);
    const missing = await fetch(`${t.platform.httpUrl}/api/v1/patients/nobody-here/export`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(missing.status).toBe(404);
  });
});
