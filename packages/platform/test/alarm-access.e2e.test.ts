/**
 * Alarms as patient data, end to end with real accounts signed in: the FHIR Flag and Communication reads and
 * searches ask the access policy and are audited like Observation; unknown search parameters are refused;
 * Provenance reads are audited and carry meta.lastUpdated; an unknown FHIR route is an OperationOutcome; a
 * threshold change is audited; the alarm stream asks for credentials before it says anything about a team.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Browser, signedInPeople } from '../src/identity/testing.ts';
import {
  backends,
  provisionDevice,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
} from './harness.ts';

describe.each(backends)('alarms as patient data ($name)', (backend) => {
  let t: TestPlatform;
  let a: TestDevice;
  let b: TestDevice;
  let teamId = '';
  /** Patient A's and B's alarm (Flag id) and first notification (Communication id). */
  const flag: Record<'a' | 'b', string> = { a: '', b: '' };
  const comm: Record<'a' | 'b', string> = { a: '', b: '' };
  const as: Record<string, { id: string; browser: Browser }> = {};

  const anonymous = (path: string) =>
    fetch(`${t.platform.httpUrl}${path}`).then(async (r) => ({
      status: r.status,
      type: r.headers.get('content-type'),
      json: (await r.json()) as any,
    }));
  /** The audit records of a patient with this action, newest first. */
  const audited = async (patientId: string, action: string) =>
    (await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=${action}&limit=1000`)).body
      .items as any[];

  /** Low SpO2 from the device: the threshold set below raises an alarm with one notification. */
  async function raiseAlarm(d: TestDevice): Promise<{ flag: string; comm: string }> {
    // Low priority: no reminder or escalation (10 min and more) adds a notification while the tests run.
    const limit = { vital: 'spo2', direction: 'low', limit: 92, hysteresis: 2, priority: 'low' };
    const set = await t.api('PUT', `/api/v1/patients/${d.patientId}/alarm-settings`, { thresholds: [limit] });
    expect(set.status).toBe(200);
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages: [d.sign(1, { vitals: [{ code: 'spo2', value: 85 }] })] }),
    });
    expect(res.status).toBe(200);
    for (let i = 0; i < 100; i++) {
      const open = await t.api('GET', `/api/v1/alarms?patient=${d.patientId}&state=open`);
      const alarm = open.body.items.find((x: any) => x.condition === 'threshold:spo2:low');
      if (alarm) {
        const comms = await t.api('GET', `/fhir/R4/Communication?about=Flag/${alarm.id}`);
        expect(comms.body.entry).toHaveLength(1);
        return { flag: alarm.id, comm: comms.body.entry[0].resource.id };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no alarm raised');
  }

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    a = await provisionDevice(t, 'aa-dev-a', undefined, 'pulse-oximeter');
    b = await provisionDevice(t, 'aa-dev-b', undefined, 'pulse-oximeter');
    ({ flag: flag.a, comm: comm.a } = await raiseAlarm(a));
    ({ flag: flag.b, comm: comm.b } = await raiseAlarm(b));
    Object.assign(
      as,
      await signedInPeople(t.platform.httpUrl, t.adminToken, [
        ['dr.in', ['clinician'], undefined],
        ['pat.a', ['patient'], a.patientId],
      ]),
    );
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 9' });
    teamId = team.body.id;
    expect((await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/members/${as['dr.in']!.id}`)).status).toBe(
      200,
    );
    expect((await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${a.patientId}`)).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads a Communication only with credentials and access, like every other FHIR read, and audits it', async () => {
    const nobody = await anonymous(`/fhir/R4/Communication/${comm.a}`);
    expect(nobody.status).toBe(401);
    expect(nobody.json.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(nobody.json)).not.toContain('payload');
    // An unknown id is 401 too: nothing is said about which ids exist before credentials.
    expect((await anonymous('/fhir/R4/Communication/00000000-0000-4000-8000-000000000000')).status).toBe(401);
    // So too for the alarm API, known or unknown alarm.
    for (const id of [flag.a, '00000000-0000-4000-8000-000000000000']) {
      expect((await anonymous(`/api/v1/alarms/${id}`)).status).toBe(401);
      const act = await fetch(`${t.platform.httpUrl}/api/v1/alarms/${id}/acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch' },
        body: '{}',
      });
      expect(act.status).toBe(401);
    }

    const other = await as['pat.a']!.browser.get(`/fhir/R4/Communication/${comm.b}`);
    expect(other.status).toBe(403);
    expect(other.json.resourceType).toBe('OperationOutcome');
    const own = await as['pat.a']!.browser.get(`/fhir/R4/Communication/${comm.a}`);
    expect(own.status).toBe(200);

    const read = await as['dr.in']!.browser.get(`/fhir/R4/Communication/${comm.a}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      resourceType: 'Communication',
      id: comm.a,
      subject: { reference: `Patient/${a.patientId}` },
      about: [{ reference: `Flag/${flag.a}` }],
    });
    expect((await as['dr.in']!.browser.get(`/fhir/R4/Communication/${comm.b}`)).status).toBe(403);
    const missing = await as['dr.in']!.browser.get('/fhir/R4/Communication/no-such-notification');
    expect(missing.status).toBe(404);

    const reads = (await audited(a.patientId, 'read')).filter((r) => r.resourceType === 'Communication');
    expect(reads.map((r) => [r.actor, r.resourceId, r.outcome])).toEqual(
      expect.arrayContaining([
        [as['dr.in']!.id, comm.a, 'success'],
        [as['pat.a']!.id, comm.a, 'success'],
      ]),
    );
    const denied = (await audited(b.patientId, 'denied')).filter((r) => r.resourceType === 'Communication');
    expect(denied.map((r) => r.actor)).toEqual(expect.arrayContaining([as['pat.a']!.id, as['dr.in']!.id]));
  });

  it('audits Flag reads and searches, and Communication searches, one record per patient disclosed', async () => {
    expect((await anonymous(`/fhir/R4/Flag/${flag.a}`)).status).toBe(401);
    expect((await anonymous('/fhir/R4/Flag/00000000-0000-4000-8000-000000000000')).status).toBe(401);
    expect((await as['pat.a']!.browser.get(`/fhir/R4/Flag/${flag.b}`)).status).toBe(403);
    expect((await as['dr.in']!.browser.get(`/fhir/R4/Flag/${flag.a}`)).status).toBe(200);
    // Only patient A's alarms (the low SpO2 raised a NEWS2 alarm too, or others: the set is not the point).
    const flags = await as['dr.in']!.browser.get('/fhir/R4/Flag?status=active');
    expect(flags.json.entry.map((e: any) => e.resource.id)).toContain(flag.a);
    const subjects = new Set(flags.json.entry.map((e: any) => e.resource.subject.reference));
    expect(subjects).toEqual(new Set([`Patient/${a.patientId}`]));
    const comms = await as['dr.in']!.browser.get(`/fhir/R4/Communication?patient=${a.patientId}`);
    expect(comms.json.entry.map((e: any) => e.resource.id)).toContain(comm.a);

    const reads = await audited(a.patientId, 'read');
    expect(reads.find((r) => r.resourceType === 'Flag' && r.actor === as['dr.in']!.id)).toMatchObject({
      resourceId: flag.a,
      outcome: 'success',
    });
    const searches = (await audited(a.patientId, 'search')).filter((r) => r.actor === as['dr.in']!.id);
    expect(searches.find((r) => r.resourceType === 'Flag')?.detail).toEqual({
      query: 'status=active',
      count: flags.json.entry.length,
    });
    expect(searches.find((r) => r.resourceType === 'Communication')?.detail).toEqual({
      query: `patient=${a.patientId}`,
      count: comms.json.entry.length,
    });
    // Patient B was in no result: nothing was disclosed about B, so nothing is recorded for B.
    const forB = (await audited(b.patientId, 'search')).filter((r) => r.actor === as['dr.in']!.id);
    expect(forB).toEqual([]);
  });

  it('audits the alarm API as the FHIR one: alarm list and read, NEWS2, alarm settings', async () => {
    const dr = as['dr.in']!.browser;
    const list = await dr.get(`/api/v1/alarms?patient=${a.patientId}`);
    expect(list.status).toBe(200);
    const id = list.json.items[0].id as string;
    expect((await dr.get(`/api/v1/alarms/${id}`)).status).toBe(200);
    expect((await dr.get(`/api/v1/patients/${a.patientId}/news2`)).status).toBe(200);
    expect((await dr.get(`/api/v1/patients/${a.patientId}/alarm-settings`)).status).toBe(200);
    const mine = (r: any) => r.actor === as['dr.in']!.id;
    const reads = (await audited(a.patientId, 'read'))
      .filter(mine)
      .map((r) => `${r.resourceType}:${r.resourceId ?? ''}`);
    expect(reads).toEqual(
      expect.arrayContaining([`Flag:${id}`, 'RiskAssessment:', `AlarmSettings:${a.patientId}`]),
    );
    const [search] = (await audited(a.patientId, 'search')).filter(mine);
    expect(search).toMatchObject({ resourceType: 'Flag', detail: { count: list.json.items.length } });
  });

  it('refuses unknown search parameters on Flag and Communication instead of widening the search', async () => {
    const cases = [
      [`/fhir/R4/Flag?patinet=${a.patientId}`, 'patinet'],
      [`/fhir/R4/Flag?patient=${a.patientId}&stauts=active`, 'stauts'],
      [`/fhir/R4/Communication?patinet=${a.patientId}`, 'patinet'],
      [`/fhir/R4/Communication?about=Flag/${flag.a}&abuot=x`, 'abuot'],
      ['/fhir/R4/Flag?_summary=count', '_summary'],
      [`/fhir/R4/Flag?patient=${a.patientId}&patient=${b.patientId}`, 'patient'],
      ['/fhir/R4/Communication?about=Patient/x', 'about'],
    ];
    for (const [path, param] of cases) {
      const res = await t.api('GET', path as string);
      expect(res.status, path).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].expression).toEqual([param]);
    }
    expect((await t.api('GET', `/fhir/R4/Flag?patinet=${a.patientId}`)).body.issue[0].diagnostics).toBe(
      'unknown search parameter patinet',
    );
    // The parameters it knows still work, for the administrator too.
    const flags = await t.api('GET', `/fhir/R4/Flag?subject=Patient/${b.patientId}&status=active&_count=5`);
    expect(flags.body.entry.map((e: any) => e.resource.id)).toContain(flag.b);
    for (const e of flags.body.entry) expect(e.resource.subject.reference).toBe(`Patient/${b.patientId}`);
  });

  it('audits Provenance reads and searches and gives them meta.lastUpdated', async () => {
    const entered = await as['dr.in']!.browser.post('/fhir/R4/Observation', {
      resourceType: 'Observation',
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${a.patientId}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 80, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    expect(entered.status).toBe(201);
    const id = entered.json.id;
    expect((await anonymous(`/fhir/R4/Provenance/${id}`)).status).toBe(401);
    const byId = await as['dr.in']!.browser.get(`/fhir/R4/Provenance/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.json.meta.lastUpdated).toBe(new Date(byId.json.recorded).toISOString());
    const found = await as['dr.in']!.browser.get(`/fhir/R4/Provenance?target=Observation/${id}`);
    expect(found.json.entry[0].resource).toEqual(byId.json);
    expect((await t.api('GET', `/fhir/R4/Provenance?target=Observation/${id}&tagret=x`)).status).toBe(400);

    const mine = (r: any) => r.resourceType === 'Provenance' && r.actor === as['dr.in']!.id;
    expect((await audited(a.patientId, 'read')).filter(mine).map((r) => r.resourceId)).toEqual([id]);
    expect((await audited(a.patientId, 'search')).filter(mine).map((r) => r.detail.count)).toEqual([1]);
  });

  it('answers an unknown FHIR resource type or interaction with an OperationOutcome', async () => {
    for (const [method, path] of [
      ['GET', '/fhir/R4/DetectedIssue'],
      ['GET', '/fhir/R4/DetectedIssue/1?x=1'],
      ['DELETE', `/fhir/R4/Flag/${flag.a}`],
    ] as const) {
      const res = await fetch(`${t.platform.httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      const body = (await res.json()) as any;
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0].diagnostics).toBe(
        `${method} ${path.split('?')[0]} is not supported by this server`,
      );
    }
    // Outside /fhir the answer stays problem details.
    const api = await fetch(`${t.platform.httpUrl}/api/v1/nothing-here`);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('audits a threshold change: who, which patient, which settings, and no limits', async () => {
    const put = (thresholds: unknown[], spo2Scale2?: boolean) =>
      as['dr.in']!.browser.request('PUT', `/api/v1/patients/${a.patientId}/alarm-settings`, {
        thresholds,
        ...(spo2Scale2 === undefined ? {} : { spo2Scale2 }),
      });
    const hr = { vital: 'heart-rate', direction: 'high', limit: 131, hysteresis: 5, priority: 'medium' };
    const spo2 = { vital: 'spo2', direction: 'low', limit: 89, hysteresis: 2, priority: 'high' };
    expect((await put([hr, spo2], true)).status).toBe(200);
    const settingsUpdates = async () =>
      (await audited(a.patientId, 'update')).filter((r) => r.resourceType === 'AlarmSettings');
    // Newest first: the clinician's change, then the administrator token's (a service) in raiseAlarm.
    const [mine, first, ...rest] = await settingsUpdates();
    expect(rest).toEqual([]);
    expect(mine).toMatchObject({
      actor: as['dr.in']!.id,
      actorRole: 'clinician',
      resourceId: a.patientId,
      patientId: a.patientId,
      outcome: 'success',
    });
    // Which settings changed, by name; never the limits. spo2:low was 92 low-priority before: modified.
    expect(mine.detail).toEqual({
      thresholds: 2,
      added: ['heart-rate:high'],
      removed: [],
      modified: ['spo2:low', 'spo2Scale2'],
    });
    expect(first).toMatchObject({ actorRole: 'service' });
    expect(first.detail).toEqual({ thresholds: 1, added: ['spo2:low'], removed: [], modified: [] });
    // A refused change is recorded as denied, not as an update.
    const byPatient = await as['pat.a']!.browser.request(
      'PUT',
      `/api/v1/patients/${a.patientId}/alarm-settings`,
      { thresholds: [] },
    );
    expect(byPatient.status).toBe(403);
    expect(await settingsUpdates()).toHaveLength(2);
  });

  it('asks the alarm stream for credentials before saying whether a care team exists', async () => {
    const open = (query: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${t.platform.httpUrl.replace('http', 'ws')}/api/v1/alarms/stream${query}`, {
          headers,
        });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
      });
    expect(await open('?careTeam=no-such-team')).toBe(401);
    expect(await open(`?careTeam=${teamId}`)).toBe(401);
    const cookie = { cookie: `openiomt_session=${as['dr.in']!.browser.cookie}` };
    expect(await open('?careTeam=no-such-team', cookie)).toBe(400);
    expect(await open(`?careTeam=${teamId}`, cookie)).toBe(101);
  });
});
