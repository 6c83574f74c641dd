/**
 * Secure messaging on a real platform with real accounts: who may read and write (the policy on
 * Communication, consent, caregiver grants), paging, read receipts and the inbox badge, the body sealed at
 * rest, and erasure making the messages unreadable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { type Browser, signedInAs } from '../identity/testing.ts';
import { PatientErasedError } from '../store/patient-data-key.ts';

describe.each(backends)('secure messages ($name)', (backend) => {
  let t: TestPlatform;
  let patientA = '';
  let patientB = '';
  const as: Record<string, { id: string; browser: Browser }> = {};
  const messages = () => `/api/v1/patients/${patientA}/messages`;

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    patientA = (await t.api('POST', '/api/v1/admin/patients', { displayName: 'Ada Example' })).body.id;
    patientB = (await t.api('POST', '/api/v1/admin/patients', {})).body.id;
    const base = t.platform.httpUrl;
    for (const [username, roles, patient] of [
      ['msg.pat.a', ['patient'], patientA],
      ['msg.pat.b', ['patient'], patientB],
      ['msg.carer', ['caregiver'], undefined],
      ['msg.dr.in', ['clinician'], undefined],
      ['msg.nurse.in', ['nurse'], undefined],
      ['msg.dr.out', ['clinician'], undefined],
    ] as const)
      as[username] = await signedInAs(base, t.adminToken, {
        username,
        roles: [...roles],
        ...(patient ? { patientId: patient } : {}),
      });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Messages ward' });
    for (const who of ['msg.dr.in', 'msg.nurse.in'])
      await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as[who]!.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${patientA}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  const send = (who: string, body: unknown, path = messages()) => as[who]!.browser.post(path, body);
  const list = (who: string, query = '') => as[who]!.browser.get(`${messages()}${query}`);
  const unread = async (who: string) => (await as[who]!.browser.get('/api/v1/messages/unread')).json.items;

  it('lets the patient and their care team write to each other, newest first, paged', async () => {
    const first = await send('msg.pat.a', { body: '  I feel dizzy this morning.  ' });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.any(String),
      patientId: patientA,
      sender: { userId: as['msg.pat.a']!.id, role: 'patient' },
      body: 'I feel dizzy this morning.',
      sentAt: expect.any(String),
    });
    expect((await send('msg.pat.a', { body: 'Since 7 am.' })).status).toBe(201);
    const reply = await send('msg.dr.in', { body: 'Please sit down; a nurse will call you.' });
    expect(reply.json.sender).toEqual({ userId: as['msg.dr.in']!.id, role: 'clinician' });
    expect((await send('msg.nurse.in', { body: 'Calling you now.' })).json.sender.role).toBe('nurse');

    const all = await list('msg.pat.a');
    expect(all.status).toBe(200);
    expect(all.json.items.map((m: { body: string }) => m.body)).toEqual([
      'Calling you now.',
      'Please sit down; a nurse will call you.',
      'Since 7 am.',
      'I feel dizzy this morning.',
    ]);
    expect(all.json.next).toBeUndefined();
    const page1 = await list('msg.dr.in', '?limit=3');
    expect(page1.json.items).toHaveLength(3);
    const page2 = await list('msg.dr.in', `?limit=3&before=${encodeURIComponent(page1.json.next)}`);
    expect(page2.json.items.map((m: { id: string }) => m.id)).toEqual([first.json.id]);
    expect(page2.json.next).toBeUndefined();
    const older = await list('msg.dr.in', `?before=${encodeURIComponent(reply.json.sentAt)}`);
    expect(older.json.items.every((m: { sentAt: string }) => m.sentAt < reply.json.sentAt)).toBe(true);

    // Lists and writes are in the audit log.
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${patientA}&action=create`);
    expect(audit.body.items.some((r: { resourceId: string }) => r.resourceId === first.json.id)).toBe(true);
  });

  it('refuses bodies and queries that are not fit, naming the field', async () => {
    for (const body of [{}, { body: '' }, { body: '   ' }, { body: 5 }, { body: 'x'.repeat(4001) }]) {
      const r = await send('msg.pat.a', body);
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('/body');
    }
    expect((await send('msg.pat.a', { body: 'x'.repeat(4000) })).status).toBe(201);
    expect((await list('msg.pat.a', '?limit=0')).json.field).toBe('/limit');
    expect((await list('msg.pat.a', '?before=tomorrow')).json.field).toBe('/before');
  });

  it('admits caregivers with a grant and no one else', async () => {
    expect((await send('msg.carer', { body: 'Hello' })).status).toBe(403);
    const grant = await as['msg.pat.a']!.browser.post(`/api/v1/patients/${patientA}/caregivers`, {
      userId: as['msg.carer']!.id,
    });
    expect(grant.status).toBe(201);
    const carer = await send('msg.carer', { body: 'I will drive her in.' });
    expect(carer.status).toBe(201);
    expect(carer.json.sender.role).toBe('caregiver');
    expect((await list('msg.carer')).status).toBe(200);

    const outsider = await list('msg.dr.out');
    expect(outsider.status).toBe(403);
    expect(outsider.json.detail).toBe('the patient is not in any of your care teams');
    expect((await send('msg.dr.out', { body: 'Hi' })).status).toBe(403);
    expect((await list('msg.pat.b')).status).toBe(403);
    expect((await fetch(`${t.platform.httpUrl}${messages()}`)).status).toBe(401);
    // The administrator token reads by its scopes, but a service does not write in a conversation.
    expect((await t.api('GET', messages())).status).toBe(200);
    expect((await t.api('POST', messages(), { body: 'system' })).status).toBe(403);
  });

  it("follows the patient's consent: messages withheld from staff are refused", async () => {
    const put = await as['msg.pat.a']!.browser.request('PUT', `/api/v1/patients/${patientA}/consent`, {
      restrictions: [{ categories: ['messages'], recipients: [as['msg.nurse.in']!.id] }],
      researchUse: false,
    });
    expect(put.status).toBe(200);
    const nurse = await list('msg.nurse.in');
    expect(nurse.status).toBe(403);
    expect(nurse.json.detail).toBe('the patient has withheld messages from this user');
    expect(await unread('msg.nurse.in')).toEqual([]);
    expect((await list('msg.dr.in')).status).toBe(200);
  });

  it('marks messages read by the other side and counts the unread ones for the inbox badge', async () => {
    type Item = { id: string; readAt?: string; sender: { userId: string; role: string } };
    const items = async (who: string): Promise<Item[]> => (await list(who, '?limit=100')).json.items;
    const patientSide = (m: Item) => m.sender.role === 'patient' || m.sender.role === 'caregiver';
    // The care team's badge: what the patient's side wrote and nobody of the team has read.
    const waiting = (await items('msg.dr.in')).filter((m) => patientSide(m) && !m.readAt);
    expect(waiting).toHaveLength(4);
    expect(await unread('msg.dr.in')).toEqual([{ patientId: patientA, unread: 4 }]);
    const target = waiting[0]!;
    const read = await as['msg.dr.in']!.browser.post(`${messages()}/${target.id}/read`);
    expect(read.status).toBe(204);
    expect(await unread('msg.dr.in')).toEqual([{ patientId: patientA, unread: 3 }]);
    expect((await items('msg.dr.in')).find((m) => m.id === target.id)?.readAt).toEqual(expect.any(String));
    // Reading it again, or a message of one's own side, changes nothing; an unknown message is 404.
    expect((await as['msg.dr.in']!.browser.post(`${messages()}/${target.id}/read`)).status).toBe(204);
    const own = (await items('msg.dr.in')).find((m) => m.sender.role === 'nurse')!;
    expect((await as['msg.dr.in']!.browser.post(`${messages()}/${own.id}/read`)).status).toBe(204);
    expect((await items('msg.dr.in')).find((m) => m.id === own.id)?.readAt).toBeUndefined();
    const unknown = await as['msg.dr.in']!.browser.post(
      `${messages()}/00000000-0000-4000-8000-000000000000/read`,
    );
    expect(unknown.status).toBe(404);
    // The patient's badge counts what the care team wrote; their reading it clears it.
    expect(await unread('msg.pat.a')).toEqual([{ patientId: patientA, unread: 2 }]);
    expect((await as['msg.pat.a']!.browser.post(`${messages()}/${own.id}/read`)).status).toBe(204);
    expect(await unread('msg.pat.a')).toEqual([{ patientId: patientA, unread: 1 }]);
    expect(await unread('msg.carer')).toEqual([{ patientId: patientA, unread: 1 }]);
    expect(await unread('msg.dr.out')).toEqual([]);
  });

  it('keeps only ciphertext in the database', async () => {
    const { rows } = await t.platform.store.db.query<{ body_ciphertext: Uint8Array }>(
      'SELECT body_ciphertext FROM messages WHERE patient_id = $1',
      [patientA],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows)
      expect(Buffer.from(r.body_ciphertext).toString('latin1')).not.toMatch(/dizzy|nurse|drive/);
  });

  it('makes the messages unreadable once the patient is erased (their key is destroyed)', async () => {
    const erased = await t.api('POST', `/api/v1/admin/patients/${patientA}/erase`, {
      reason: 'patient request',
    });
    expect(erased.status).toBe(200);
    const gone = await list('msg.dr.in');
    expect(gone.status).toBe(410);
    expect(gone.json.title).toBe('Gone');
    expect((await send('msg.dr.in', { body: 'Are you there?' })).status).toBe(410);
    expect(await unread('msg.dr.in')).toEqual([]);
    // The envelopes are still there, but no key can open them any more.
    const { rows } = await t.platform.store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE patient_id = $1',
      [patientA],
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    const { rows: keys } = await t.platform.store.db.query<{ wrapped_key: Uint8Array | null }>(
      'SELECT wrapped_key FROM patient_keys WHERE patient_id = $1',
      [patientA],
    );
    expect(keys).toEqual([{ wrapped_key: null }]);
    await expect(t.platform.store.messages.list({ patientId: patientA, limit: 10 })).rejects.toBeInstanceOf(
      PatientErasedError,
    );
  });

  it('gives a patient registered without identity a key at their first message', async () => {
    const sent = await send('msg.pat.b', { body: 'Hello?' }, `/api/v1/patients/${patientB}/messages`);
    expect(sent.status).toBe(201);
    const { rows } = await t.platform.store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM patient_keys WHERE patient_id = $1 AND wrapped_key IS NOT NULL',
      [patientB],
    );
    expect(rows[0]!.n).toBe(1);
    const mine = await as['msg.pat.b']!.browser.get(`/api/v1/patients/${patientB}/messages`);
    expect(mine.json.items.map((m: { body: string }) => m.body)).toEqual(['Hello?']);
    // Reading one's own patient record still works: the key row carries no identity.
    expect((await t.api('GET', `/api/v1/admin/patients/${patientB}`)).body.erasedAt).toBeUndefined();
  });
});
