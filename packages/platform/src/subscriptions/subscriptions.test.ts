/**
 * FHIR R4 Subscriptions end to end on a real platform: readings from real devices over HTTPS, real accounts
 * signed in, a real HTTP receiver verifying signatures, a real WebSocket client. Access is decided at
 * delivery: a clinician who leaves the care team, or whose view a patient's consent withholds, is told
 * nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  backends,
  provisionDevice,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
} from '../../test/harness.ts';
import { SESSION_COOKIE } from '../identity/cookies.ts';
import { type Browser, signedInPeople } from '../identity/testing.ts';
import { startReceiver, type TestReceiver, waitFor } from '../notify/testing.ts';
import { SECRET_URL } from './subscription-resource.ts';

const HR = 'http://loinc.org|8867-4';
const settle = () => new Promise((r) => setTimeout(r, 400));

describe.each(backends)('FHIR Subscriptions ($name)', (backend) => {
  let t: TestPlatform;
  let a: TestDevice;
  let b: TestDevice;
  let seqA = 0;
  let seqB = 0;
  let teamId: string;
  const as: Record<string, { id: string; browser: Browser }> = {};
  const receivers: TestReceiver[] = [];

  const fhir = (who: string, method: string, path: string, body?: unknown) =>
    fetch(`${t.platform.httpUrl}${path}`, {
      method,
      headers: {
        cookie: `${SESSION_COOKIE}=${as[who]!.browser.cookie}`,
        'x-requested-with': 'fetch',
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then(async (r) => ({
      status: r.status,
      json: (await r.text().then((x) => (x ? JSON.parse(x) : undefined))) as any,
    }));
  const heartRate = async (d: TestDevice, value: number) => {
    const seq = d === a ? ++seqA : ++seqB;
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages: [d.sign(seq, { vitals: [{ code: 'heart-rate', value }] })] }),
    });
    expect(res.status).toBe(200);
  };
  const restHook = (criteria: string, endpoint: string) => ({
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'tachycardia',
    criteria,
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
  });
  const subscribe = async (who: string, criteria: string) => {
    const r = await startReceiver();
    receivers.push(r);
    const made = await fhir(who, 'POST', '/fhir/R4/Subscription', restHook(criteria, r.url));
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    r.useSecret(made.json.extension.find((e: any) => e.url === SECRET_URL).valueString);
    return { receiver: r, id: made.json.id as string };
  };
  const valuesOf = (r: TestReceiver) =>
    r.received.map((x) => JSON.parse(x.body).entry[1].resource.valueQuantity.value as number);

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    a = await provisionDevice(t, 'sub-dev-a');
    b = await provisionDevice(t, 'sub-dev-b');
    Object.assign(
      as,
      await signedInPeople(t.platform.httpUrl, t.adminToken, [
        ['dr.in', ['clinician'], undefined],
        ['dr.other', ['clinician'], undefined],
        ['pat.a', ['patient'], a.patientId],
      ]),
    );
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 9' });
    teamId = team.body.id;
    await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/members/${as['dr.in']!.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${a.patientId}`);
  }, 120_000);
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await t?.close();
  });

  it('fires a rest-hook for heart rate 130 and not for 110, signed and in the Backport IG shape', async () => {
    const { receiver, id } = await subscribe(
      'dr.in',
      `Observation?code=${HR}&value-quantity=gt120&patient=${a.patientId}`,
    );
    await heartRate(a, 110);
    await heartRate(a, 130);
    await waitFor(() => receiver.received.length >= 1);
    await heartRate(a, 110);
    await heartRate(a, 131);
    await waitFor(() => receiver.received.length >= 2);
    await settle();
    expect(valuesOf(receiver)).toEqual([130, 131]);
    const first = receiver.received[0]!;
    expect(first.verified).toBe(true);
    expect(first.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = JSON.parse(first.body);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
    expect(bundle.entry[0].resource.resourceType).toBe('Parameters');
    expect(bundle.entry[0].resource.parameter).toContainEqual({
      name: 'subscription',
      valueReference: { reference: `Subscription/${id}` },
    });
    expect(bundle.entry[1].resource.subject.reference).toBe(`Patient/${a.patientId}`);
    const read = await fhir('dr.in', 'GET', `/fhir/R4/Subscription/${id}`);
    expect(read.json).toMatchObject({ status: 'active', criteria: expect.stringContaining('gt120') });
    expect(read.json.extension).toBeUndefined();
  });

  it('fires for a heart rate a clinician entered, as entered (performer), not for one below the limit', async () => {
    const { receiver } = await subscribe(
      'dr.in',
      `Observation?code=${HR}&value-quantity=gt120&patient=${a.patientId}`,
    );
    const enter = (value: number) =>
      fhir('dr.in', 'POST', '/fhir/R4/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${a.patientId}` },
        effectiveDateTime: new Date().toISOString(),
        valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      });
    expect((await enter(100)).status).toBe(201);
    const made = await enter(142);
    expect(made.status).toBe(201);
    await waitFor(() => receiver.received.length >= 1);
    await settle();
    expect(valuesOf(receiver)).toEqual([142]);
    const sent = JSON.parse(receiver.received[0]!.body).entry[1].resource;
    expect(sent.id).toBe(made.json.id);
    expect(sent.performer).toEqual([{ reference: `Practitioner/${as['dr.in']!.id}` }]);
  });

  it('binds a websocket and pings on a match; a patient only ever hears of their own data', async () => {
    const made = await fhir('pat.a', 'POST', '/fhir/R4/Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'my pulse',
      criteria: `Observation?code=heart-rate&value-quantity=gt120`,
      channel: { type: 'websocket', payload: 'application/fhir+json' },
    });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    const id = made.json.id as string;
    const frames: string[] = [];
    const ws = new WebSocket(`${t.platform.httpUrl.replace('http', 'ws')}/fhir/R4/websocket`, {
      headers: { cookie: `${SESSION_COOKIE}=${as['pat.a']!.browser.cookie}` },
    });
    ws.on('message', (d) => frames.push(String(d)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(`bind ${id}`);
    await waitFor(() => frames.includes(`bound ${id}`));
    await heartRate(b, 150); // another patient's: never told
    await heartRate(a, 140);
    await waitFor(() => frames.includes(`ping ${id}`));
    await settle();
    expect(frames.filter((f) => f === `ping ${id}`)).toHaveLength(1);
    const bundle = JSON.parse(frames.find((f) => f.startsWith('{')) as string);
    expect(bundle.entry[1].resource.subject.reference).toBe(`Patient/${a.patientId}`);
    expect(bundle.entry[1].resource.valueQuantity.value).toBe(140);
    // Someone else cannot bind it.
    const other = new WebSocket(`${t.platform.httpUrl.replace('http', 'ws')}/fhir/R4/websocket`, {
      headers: { cookie: `${SESSION_COOKIE}=${as['dr.in']!.browser.cookie}` },
    });
    const otherFrames: string[] = [];
    other.on('message', (d) => otherFrames.push(String(d)));
    await new Promise((resolve, reject) => other.once('open', resolve).once('error', reject));
    other.send(`bind ${id}`);
    await waitFor(() => otherFrames.length > 0);
    expect(otherFrames[0]).toMatch(/^error /);
    ws.close();
    other.close();
    // A patient naming another patient is refused.
    const foreign = await fhir('pat.a', 'POST', '/fhir/R4/Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      criteria: `Observation?code=heart-rate&patient=${b.patientId}`,
      channel: { type: 'websocket' },
    });
    expect(foreign.status).toBe(403);
  });

  it('stops delivering to a clinician when consent withholds the category or the patient leaves the care team', async () => {
    const clinician = await subscribe('dr.in', `Observation?code=${HR}&value-quantity=gt120`);
    const own = await subscribe('pat.a', `Observation?code=${HR}&value-quantity=gt120`);
    await heartRate(a, 125);
    await waitFor(() => clinician.receiver.received.length >= 1 && own.receiver.received.length >= 1);
    const consent = await as['pat.a']!.browser.request('PUT', `/api/v1/patients/${a.patientId}/consent`, {
      restrictions: [{ categories: ['vital-signs'], recipients: [as['dr.in']!.id] }],
      researchUse: false,
    });
    expect(consent.status, JSON.stringify(consent.json)).toBe(200);
    await heartRate(a, 126);
    await waitFor(() => own.receiver.received.length >= 2);
    await settle();
    expect(valuesOf(clinician.receiver)).toEqual([125]);
    await as['pat.a']!.browser.request('PUT', `/api/v1/patients/${a.patientId}/consent`, {
      restrictions: [],
      researchUse: false,
    });
    await heartRate(a, 127);
    await waitFor(() => clinician.receiver.received.length >= 2);
    await t.api('DELETE', `/api/v1/admin/care-teams/${teamId}/patients/${a.patientId}`);
    await heartRate(a, 128);
    await waitFor(() => own.receiver.received.length >= 4);
    await settle();
    expect(valuesOf(clinician.receiver)).toEqual([125, 127]);
    expect(valuesOf(own.receiver)).toEqual([125, 126, 127, 128]);
    await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${a.patientId}`);
  });

  it('refuses invalid criteria and endpoints with an OperationOutcome naming the element', async () => {
    const bad = await fhir(
      'dr.in',
      'POST',
      '/fhir/R4/Subscription',
      restHook('Observation?code=8867-4&value-quantity=above120', 'https://example.org/h'),
    );
    expect(bad.status).toBe(422);
    expect(bad.json.resourceType).toBe('OperationOutcome');
    expect(bad.json.issue[0].expression).toEqual(['Subscription.criteria']);
    expect(bad.json.issue[0].diagnostics).toMatch(/value-quantity/);
    const other = await fhir(
      'dr.in',
      'POST',
      '/fhir/R4/Subscription',
      restHook('Patient?name=x', 'https://example.org/h'),
    );
    expect(other.json.issue[0].expression).toEqual(['Subscription.criteria']);
    const plain = await fhir(
      'dr.in',
      'POST',
      '/fhir/R4/Subscription',
      restHook(`Observation?code=${HR}`, 'http://example.org/h'),
    );
    expect(plain.status).toBe(422);
    expect(plain.json.issue[0].expression).toEqual(['Subscription.channel.endpoint']);
    const channel = await fhir('dr.in', 'POST', '/fhir/R4/Subscription', {
      ...restHook(`Observation?code=${HR}`, 'https://example.org/h'),
      channel: { type: 'email', endpoint: 'mailto:x@example.org' },
    });
    expect(channel.json.issue[0].expression).toEqual(['Subscription.channel.type']);
    const meta = await fetch(`${t.platform.httpUrl}/fhir/R4/metadata`).then((r) => r.json());
    const sub = meta.rest[0].resource.find((r: any) => r.type === 'Subscription');
    expect(sub.interaction.map((i: any) => i.code)).toEqual([
      'read',
      'search-type',
      'create',
      'update',
      'delete',
    ]);
  });

  it('lets only the owner read, list, change and delete a subscription', async () => {
    const made = await fhir(
      'dr.in',
      'POST',
      '/fhir/R4/Subscription',
      restHook(`Observation?code=${HR}&value-quantity=gt200`, 'https://example.org/h'),
    );
    const id = made.json.id as string;
    expect((await fhir('dr.other', 'GET', `/fhir/R4/Subscription/${id}`)).status).toBe(404);
    expect((await fhir('dr.other', 'DELETE', `/fhir/R4/Subscription/${id}`)).status).toBe(404);
    const others = await fhir('dr.other', 'GET', '/fhir/R4/Subscription');
    expect(others.json.entry).toEqual([]);
    const mine = await fhir('dr.in', 'GET', '/fhir/R4/Subscription?status=active');
    expect(mine.json.entry.map((e: any) => e.resource.id)).toContain(id);
    const off = await fhir('dr.in', 'PUT', `/fhir/R4/Subscription/${id}`, {
      ...made.json,
      status: 'off',
      extension: undefined,
    });
    expect(off.status, JSON.stringify(off.json)).toBe(200);
    expect(off.json.status).toBe('off');
    const changed = await fhir('dr.in', 'PUT', `/fhir/R4/Subscription/${id}`, {
      ...made.json,
      criteria: `Observation?code=${HR}`,
    });
    expect(changed.status).toBe(422);
    expect(
      (await fhir('dr.in', 'PUT', `/fhir/R4/Subscription/${id}`, { ...made.json, status: 'active' })).json
        .status,
    ).toBe('active');
    expect((await fhir('dr.in', 'DELETE', `/fhir/R4/Subscription/${id}`)).status).toBe(204);
    expect((await fhir('dr.in', 'GET', `/fhir/R4/Subscription/${id}`)).json.status).toBe('off');
    expect((await fhir('dr.in', 'GET', '/fhir/R4/Subscription?status=bogus')).status).toBe(400);
  });
});
