/**
 * Access to patient data end to end, with real accounts signed in (password, and TOTP for staff), real
 * readings from a real device, and the policy enforced on the FHIR API and the alarm API: care teams,
 * the patient's own compartment, consent restrictions, caregiver grants, break-glass, research consent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Browser, signedInPeople } from '../src/identity/testing.ts';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from './harness.ts';

describe.each(backends)('access to patient data ($name)', (backend) => {
  let t: TestPlatform;
  let patientA = '';
  let patientB = '';
  let teamId = '';
  let deviceB: Awaited<ReturnType<typeof provisionDevice>>;
  const as: Record<string, { id: string; browser: Browser }> = {};

  /** A reading with a heart rate (vital signs) and one second of ECG (waveforms). */
  const reading = (seq: number) => ({
    vitals: [{ code: 'heart-rate', value: 72 + seq }],
    waveforms: [
      {
        code: 'ecg-ii',
        rate: 250,
        start: new Date().toISOString(),
        factor: 0.005,
        origin: 0,
        data: Array.from({ length: 250 }, (_, i) => Math.round(200 * Math.sin(i / 10))),
      },
    ],
  });

  beforeAll(async () => {
    // Open alarm and live streams re-check access every 300 ms here (15 s by default).
    t = await startTestPlatform(backend, {}, { streamRescopeMs: 300 });
    const a = await provisionDevice(t, 'acc-dev-a');
    const b = await provisionDevice(t, 'acc-dev-b');
    deviceB = b;
    patientA = a.patientId;
    patientB = b.patientId;
    for (const d of [a, b]) {
      const client = await d.connect(5);
      for (const seq of [1, 2])
        expect(await publish(client, topicOf(d.id), d.sign(seq, reading(seq)))).toBe(0);
      client.end();
    }
    const base = t.platform.httpUrl;
    const people = [
      ['dr.in', ['clinician']],
      ['dr.out', ['clinician']],
      ['nurse.in', ['nurse']],
      ['pat.a', ['patient'], patientA],
      ['carer.a', ['caregiver']],
      ['research.r', ['researcher']],
    ] as const;
    Object.assign(as, await signedInPeople(base, t.adminToken, people));
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 7' });
    expect(team.status).toBe(201);
    teamId = team.body.id;
    for (const who of ['dr.in', 'nurse.in'])
      expect(
        (await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as[who]!.id}`)).status,
      ).toBe(200);
    expect((await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${patientA}`)).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  const search = (who: string, patient: string, extra = '') =>
    as[who]!.browser.get(`/fhir/R4/Observation?patient=${patient}&_count=100${extra}`);
  const codes = (r: { json: any }) =>
    [...new Set((r.json.entry ?? []).map((e: any) => e.resource.code.coding[0].code))].sort();

  it('refuses anonymous requests for patient data with 401', async () => {
    const res = await fetch(`${t.platform.httpUrl}/fhir/R4/Observation?patient=${patientA}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('lets the care team see its patient, and nobody else', async () => {
    const mine = await search('dr.in', patientA);
    expect(mine.status).toBe(200);
    expect(mine.json.entry.length).toBe(4);
    expect((await search('nurse.in', patientA)).status).toBe(200);
    const other = await search('dr.in', patientB);
    expect(other.status).toBe(403);
    expect(other.json.issue[0].diagnostics).toBe('the patient is not in any of your care teams');
    expect((await search('dr.out', patientA)).status).toBe(403);
    // A search without a patient is narrowed to the patients one may see.
    const all = await as['dr.in']!.browser.get('/fhir/R4/Observation?_count=100');
    expect(new Set(all.json.entry.map((e: any) => e.resource.subject.reference))).toEqual(
      new Set([`Patient/${patientA}`]),
    );
    const denied = await t.api('GET', '/api/v1/admin/security-events?kind=access-denied');
    expect(denied.body.items.length).toBeGreaterThanOrEqual(2);
  });

  it('gives a patient their own compartment only', async () => {
    expect((await search('pat.a', patientA)).json.entry.length).toBe(4);
    expect((await search('pat.a', patientB)).status).toBe(403);
  });

  it("enforces the patient's consent on every search and read, and break-glass overrides it", async () => {
    const before = await search('dr.in', patientA);
    const waveform = before.json.entry.find((e: any) => e.resource.valueSampledData).resource;
    const consent = await as['pat.a']!.browser.request('PUT', `/api/v1/patients/${patientA}/consent`, {
      restrictions: [{ categories: ['waveforms'] }],
      researchUse: false,
    });
    expect(consent.status).toBe(200);
    const after = await search('dr.in', patientA);
    expect(after.json.entry.length).toBe(2);
    expect(after.json.entry.every((e: any) => e.resource.valueQuantity)).toBe(true);
    const read = await as['dr.in']!.browser.get(`/fhir/R4/Observation/${waveform.id}`);
    expect(read.status).toBe(403);
    expect(read.json.issue[0].diagnostics).toBe('the patient has withheld waveforms from this user');
    // The refusal is in the audit log, with its reason.
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${patientA}&action=denied`);
    expect(audit.body.items.map((r: any) => [r.actor, r.outcome, r.reason])).toContainEqual([
      as['dr.in']!.id,
      'denied',
      'the patient has withheld waveforms from this user',
    ]);
    // The patient still sees everything of their own.
    expect((await search('pat.a', patientA)).json.entry.length).toBe(4);
    // Emergency: a clinician outside the team breaks the glass, with a reason, and sees what is needed.
    expect((await search('dr.out', patientA)).status).toBe(403);
    const glass = await as['dr.out']!.browser.post(`/api/v1/patients/${patientA}/break-glass`, {
      reason: 'cardiac arrest, team not reachable',
      minutes: 15,
    });
    expect(glass.status).toBe(201);
    expect((await search('dr.out', patientA)).json.entry.length).toBe(4);
    expect((await as['dr.out']!.browser.get(`/fhir/R4/Observation/${waveform.id}`)).status).toBe(200);
    const events = await t.api('GET', '/api/v1/admin/security-events?kind=break-glass');
    expect(events.body.items[0].detail).toContain(as['dr.out']!.id);
    // A short reason is refused, naming the field.
    const lazy = await as['dr.out']!.browser.post(`/api/v1/patients/${patientB}/break-glass`, {
      reason: 'need',
    });
    expect(lazy.json.field).toBe('/reason');
    // Lift the restriction again for the next tests.
    await as['pat.a']!.browser.request('PUT', `/api/v1/patients/${patientA}/consent`, {
      restrictions: [],
      researchUse: false,
    });
  });

  it('lets a caregiver see what the patient granted, and only that', async () => {
    expect((await search('carer.a', patientA)).status).toBe(403);
    const grant = await as['pat.a']!.browser.post(`/api/v1/patients/${patientA}/caregivers`, {
      userId: as['carer.a']!.id,
      categories: ['vital-signs'],
      until: '2099-01-01T00:00:00+01:00',
    });
    expect(grant.status).toBe(201);
    // Answered as it is accepted: an RFC 3339 instant (UTC).
    expect(grant.json.until).toBe('2098-12-31T23:00:00.000Z');
    const listed = await as['pat.a']!.browser.get(`/api/v1/patients/${patientA}/caregivers`);
    expect(listed.json.items.find((g: { id: string }) => g.id === grant.json.id).until).toBe(
      grant.json.until,
    );
    const seen = await search('carer.a', patientA);
    expect(seen.status).toBe(200);
    expect(codes(seen)).toEqual(['8867-4']);
    // Nobody else may grant on the patient's behalf.
    const forged = await as['carer.a']!.browser.post(`/api/v1/patients/${patientA}/caregivers`, {
      userId: as['carer.a']!.id,
    });
    expect(forged.status).toBe(403);
  });

  it('puts every change of who may see the patient in the audit log: team, consent, caregiver, break-glass', async () => {
    const changes = (await t.api('GET', `/api/v1/admin/audit?patient=${patientA}&limit=1000`)).body.items
      .filter((r: any) => r.action !== 'read' && r.action !== 'search' && r.action !== 'denied')
      .map(
        (r: any) =>
          `${r.actor === as['pat.a']!.id ? 'patient' : r.actor === as['dr.out']!.id ? 'dr.out' : r.actor}:${r.action}:${r.resourceType}`,
      );
    expect(changes).toEqual(
      expect.arrayContaining([
        'admin:update:CareTeam', // the patient put in Ward 7's care
        'patient:update:Consent', // waveforms withheld, then the restriction lifted
        'dr.out:break-glass:Patient',
        'patient:create:CaregiverGrant',
      ]),
    );
    const glass = (await t.api('GET', `/api/v1/admin/audit?patient=${patientA}&action=break-glass`)).body
      .items[0];
    expect(glass.detail).toMatchObject({ minutes: 15 });
    // The text of the reason stays out of the log (free text about a patient); the break-glass record has it.
    expect(JSON.stringify(glass)).not.toContain('cardiac arrest');
    // A member added or removed is recorded against the team, naming the person.
    const member = (
      await t.api('GET', `/api/v1/admin/audit?actor=admin&action=update&limit=1000`)
    ).body.items.find((r: any) => r.resourceType === 'CareTeam' && r.detail?.userId === as['dr.in']!.id);
    expect(member).toMatchObject({ resourceId: teamId, detail: { added: 'member' } });
  });

  it('lets researchers in only with research consent', async () => {
    expect((await search('research.r', patientA)).status).toBe(403);
    await as['pat.a']!.browser.request('PUT', `/api/v1/patients/${patientA}/consent`, {
      restrictions: [],
      researchUse: true,
    });
    expect((await search('research.r', patientA, '&purpose=research')).status).toBe(200);
  });

  it('streams alarms by care team to its members only', async () => {
    const url = () => `${t.platform.httpUrl.replace('http', 'ws')}/api/v1/alarms/stream?careTeam=${teamId}`;
    const open = (who: string) =>
      new Promise<{ status?: number; first?: any }>((resolve) => {
        const ws = new WebSocket(url(), {
          headers: { cookie: `openiomt_session=${as[who]!.browser.cookie}` },
        });
        ws.once('message', (m) => {
          resolve({ first: JSON.parse(String(m)) });
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
      });
    expect((await open('dr.in')).first.type).toBe('snapshot');
    // (dr.out broke the glass for this patient above, so a researcher stands in for an outsider.)
    expect((await open('research.r')).status).toBe(403);
  });

  it('keeps alarms and their actions within the care team', async () => {
    const mine = await as['dr.in']!.browser.get(`/api/v1/alarms?patient=${patientA}`);
    expect(mine.status).toBe(200);
    expect((await as['dr.out']!.browser.get(`/api/v1/alarms?patient=${patientB}`)).status).toBe(403);
    const settings = await as['nurse.in']!.browser.request(
      'PUT',
      `/api/v1/patients/${patientA}/alarm-settings`,
      {
        thresholds: [],
      },
    );
    expect(settings.status).toBe(403);
    const byClinician = await as['dr.in']!.browser.request(
      'PUT',
      `/api/v1/patients/${patientA}/alarm-settings`,
      {
        thresholds: [],
      },
    );
    expect(byClinician.status).toBe(200);
    expect(byClinician.json.updatedBy).toBe(as['dr.in']!.id);
  });
  it('re-checks an open alarm stream: a patient added to the team arrives, a patient removed leaves', async () => {
    // Patient B gets an open alarm that dr.in may not see yet.
    const limit = { vital: 'spo2', direction: 'low', limit: 92, hysteresis: 2, priority: 'high' };
    expect(
      (await t.api('PUT', `/api/v1/patients/${patientB}/alarm-settings`, { thresholds: [limit] })).status,
    ).toBe(200);
    const client = await deviceB.connect(5);
    expect(
      await publish(client, topicOf(deviceB.id), deviceB.sign(3, { vitals: [{ code: 'spo2', value: 85 }] })),
    ).toBe(0);
    client.end();
    const spo2Low = (items: any[]) => items.some((a) => a.condition === 'threshold:spo2:low');
    let open: any[] = [];
    for (let i = 0; i < 100 && !spo2Low(open); i++) {
      open = (await t.api('GET', `/api/v1/alarms?patient=${patientB}&state=open`)).body.items;
      if (!spo2Low(open)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(spo2Low(open)).toBe(true);

    const snapshots: any[][] = [];
    const reasons: (string | undefined)[] = [];
    const ws = new WebSocket(`${t.platform.httpUrl.replace('http', 'ws')}/api/v1/alarms/stream`, {
      headers: { cookie: `openiomt_session=${as['dr.in']!.browser.cookie}` },
    });
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.type !== 'snapshot') return;
      snapshots.push(msg.alarms);
      reasons.push(msg.reason);
    });
    const seesB = (alarms: any[]) => alarms.some((a) => a.patientId === patientB);
    const snapshotWhere = async (want: (alarms: any[]) => boolean) => {
      for (let i = 0; i < 100; i++) {
        const last = snapshots.at(-1);
        if (last && want(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no such snapshot; got ${JSON.stringify(snapshots.map((a) => a.length))}`);
    };
    try {
      await snapshotWhere((alarms) => !seesB(alarms));
      const first = snapshots.length;
      const path = `/api/v1/admin/care-teams/${teamId}/patients/${patientB}`;
      expect((await t.api('PUT', path)).status).toBe(200);
      await snapshotWhere(seesB);
      expect(snapshots.length).toBe(first + 1);
      expect((await t.api('DELETE', path)).status).toBe(200);
      await snapshotWhere((alarms) => !seesB(alarms));
      expect(snapshots.length).toBe(first + 2);
      // The first snapshot is the stream's start; each later one says the caller's patients changed.
      expect(reasons).toEqual([undefined, 'patients-changed', 'patients-changed']);
    } finally {
      ws.close();
    }
  });
  it("assigns an alarm only to someone who may act on that patient's alarms", async () => {
    const teamPath = `/api/v1/admin/care-teams/${teamId}/patients/${patientB}`;
    expect((await t.api('PUT', teamPath)).status).toBe(200);
    try {
      const open = await t.api('GET', `/api/v1/alarms?patient=${patientB}&state=open`);
      const alarm = open.body.items.find((a: any) => a.condition === 'threshold:spo2:low');
      expect(alarm).toBeDefined();
      const assign = (assignee: string) =>
        as['dr.in']!.browser.post(`/api/v1/alarms/${alarm.id}/assign`, { assignee });
      // Nobody by that id, a clinician outside the care team, a caregiver: each refused, naming the field.
      for (const who of ['no-such-user', as['dr.out']!.id, as['carer.a']!.id]) {
        const refused = await assign(who);
        expect(refused.status).toBe(400);
        expect(refused.json.field).toBe('/assignee');
      }
      const unchanged = await t.api('GET', `/api/v1/alarms/${alarm.id}`);
      expect(unchanged.body.assignee).toBeUndefined();
      // A nurse on the care team may take it.
      const done = await assign(as['nurse.in']!.id);
      expect(done.status).toBe(200);
      expect(done.json.assignee).toBe(as['nurse.in']!.id);
    } finally {
      await t.api('DELETE', teamPath);
    }
  });
  it('stops sending a patient on an open live stream once the caller may no longer see them', async () => {
    const path = `/api/v1/admin/care-teams/${teamId}/patients/${patientB}`;
    expect((await t.api('PUT', path)).status).toBe(200);
    const live = new WebSocket(
      `${t.platform.httpUrl.replace('http', 'ws')}/api/v1/live?patients=${patientB}`,
      {
        headers: { cookie: `openiomt_session=${as['dr.in']!.browser.cookie}` },
      },
    );
    const vitals: any[] = [];
    live.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.type === 'vitals' && msg.patientId === patientB) vitals.push(msg);
    });
    const send = async (seq: number) => {
      const client = await deviceB.connect(5);
      expect(await publish(client, topicOf(deviceB.id), deviceB.sign(seq, reading(seq)))).toBe(0);
      client.end();
    };
    try {
      await new Promise((r, j) => live.once('open', r).once('error', j));
      await send(4);
      for (let i = 0; i < 100 && vitals.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(vitals).toHaveLength(1);
      expect((await t.api('DELETE', path)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1000)); // a few re-checks (every 300 ms here)
      await send(5);
      await new Promise((r) => setTimeout(r, 1000));
      expect(vitals).toHaveLength(1);
      expect(live.readyState).toBe(WebSocket.OPEN);
    } finally {
      live.close();
    }
  });
});
