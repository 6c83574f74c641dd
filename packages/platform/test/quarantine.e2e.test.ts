/**
 * Device quarantine and intrusion detection on a real platform with real MQTT: a quarantined device's
 * session is closed, its readings refused and kept, its keys still valid; a release restores it; a device
 * sending forged signatures is quarantined by the detector, a well-behaved one never; an address that keeps
 * failing logins is blocked for a while, and the device it named is left alone.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { signCompactJws } from '@openiomt/core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  connectMqtt,
  newKey,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
  topicOf,
} from './harness.ts';

const NOT_AUTHORIZED = 0x87;
const BIN = fileURLToPath(new URL('../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);

describe.each(backends)('device quarantine ($name)', (backend) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const closed = (client: MqttClient) =>
    new Promise<void>((resolve) => client.once('close', () => resolve()));
  const postReadings = (d: TestDevice, messages: string[]) =>
    fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages }),
    });
  const securityKinds = async (id: string) =>
    (await t.api('GET', `/api/v1/admin/security-events?device=${id}&limit=200`)).body.items.map(
      (e: { kind: string }) => e.kind,
    );

  it('closes the session, refuses and dead-letters every reading, and a release restores the device', async () => {
    const d = await provisionDevice(t, 'quarantine-dev');
    const client = await d.connect(5);
    expect(await publish(client, topicOf(d.id), d.sign(1))).toBe(0);
    const ended = closed(client);
    const q = await t.api('POST', `/api/v1/admin/devices/${d.id}/quarantine`, {
      reason: 'suspected tampering',
    });
    expect(q.status).toBe(200);
    expect(q.body.quarantine).toMatchObject({ reason: 'suspected tampering', by: 'admin' });
    expect(q.body.status).toBe('active');
    await ended;
    client.end(true);

    // Its keys stay valid: it may connect again, but what it sends is refused (0x87) and kept.
    const again = await d.connect(5);
    const refusedJws = d.sign(2);
    expect(await publish(again, topicOf(d.id), refusedJws)).toBe(NOT_AUTHORIZED);
    again.end(true);
    const https = await postReadings(d, [d.sign(3)]);
    expect(https.status).toBe(200);
    expect((await https.json()).results).toEqual([
      expect.objectContaining({ status: 'rejected', reason: 'device-quarantined' }),
    ]);
    const letters = await t.api('GET', `/api/v1/admin/dead-letters?device=${d.id}&reason=device-quarantined`);
    expect(letters.body.items).toHaveLength(2);
    const payloads = letters.body.items.map((l: any) => Buffer.from(l.payloadBase64, 'base64').toString());
    expect(payloads).toContain(refusedJws);

    const listed = await t.api('GET', '/api/v1/admin/devices?status=quarantined');
    expect(listed.body.items.map((x: any) => x.id)).toEqual([d.id]);
    const census = await t.api('GET', '/api/v1/census');
    const row = census.body.items.find((r: any) => r.patientId === d.patientId);
    expect(row.devices[0]).toMatchObject({ id: d.id, status: 'quarantined' });
    const shown = await t.api('GET', `/api/v1/admin/devices/${d.id}`);
    expect(shown.body.keys.every((k: any) => k.revokedAt === undefined)).toBe(true);

    // Quarantining twice is a conflict; a reason is required.
    expect((await t.api('POST', `/api/v1/admin/devices/${d.id}/quarantine`, { reason: 'x' })).status).toBe(
      409,
    );
    const noReason = await t.api('POST', `/api/v1/admin/devices/${d.id}/release`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.field).toBe('/reason');

    const r = await t.api('POST', `/api/v1/admin/devices/${d.id}/release`, { reason: 'firmware checked' });
    expect(r.status).toBe(200);
    expect(r.body.quarantine).toBeUndefined();
    expect(r.body.released).toMatchObject({ reason: 'suspected tampering', by: 'admin' });
    const back = await d.connect(5);
    expect(await publish(back, topicOf(d.id), d.sign(4))).toBe(0);
    back.end(true);
    expect((await t.api('POST', `/api/v1/admin/devices/${d.id}/release`, { reason: 'x' })).status).toBe(409);
    expect(await securityKinds(d.id)).toEqual(
      expect.arrayContaining(['device-quarantined', 'device-released']),
    );
    const audit = await t.api('GET', '/api/v1/admin/audit?limit=200');
    const changes = audit.body.items.filter((a: any) => a.resourceType === 'Device' && a.resourceId === d.id);
    expect(changes.map((a: any) => [a.action, a.detail?.change, a.reason])).toEqual(
      expect.arrayContaining([
        ['update', 'quarantine', 'suspected tampering'],
        ['update', 'release', 'firmware checked'],
      ]),
    );
  });

  it('differs from revocation: a revoked device loses its keys, a quarantined one keeps them', async () => {
    const quarantined = await provisionDevice(t, 'differ-quarantined');
    const revoked = await provisionDevice(t, 'differ-revoked');
    await t.api('POST', `/api/v1/admin/devices/${quarantined.id}/quarantine`, { reason: 'check' });
    await t.api('POST', `/api/v1/admin/devices/${revoked.id}/revoke`, { reason: 'lost' });
    // Authentication: the quarantined device's token is still good, the revoked one's is not.
    expect((await postReadings(quarantined, [quarantined.sign(1)])).status).toBe(200);
    expect((await postReadings(revoked, [revoked.sign(1)])).status).toBe(401);
    (await quarantined.connect(5)).end(true);
    await expect(revoked.connect(5)).rejects.toThrow();
    const keysOf = async (id: string) => (await t.api('GET', `/api/v1/admin/devices/${id}`)).body.keys;
    expect((await keysOf(quarantined.id))[0].revokedAt).toBeUndefined();
    expect((await keysOf(revoked.id))[0].revokedAt).toBeDefined();
    // A revoked device cannot be quarantined; an unknown one is not found.
    const r = await t.api('POST', `/api/v1/admin/devices/${revoked.id}/quarantine`, { reason: 'x' });
    expect(r.status).toBe(409);
    expect((await t.api('POST', '/api/v1/admin/devices/nope/quarantine', { reason: 'x' })).status).toBe(404);
    // The revocation is audited like a quarantine; its security event comes from the caller's address.
    const audit = await t.api('GET', '/api/v1/admin/audit?limit=200');
    expect(
      audit.body.items.find((a: any) => a.resourceId === revoked.id && a.detail?.change === 'revoke'),
    ).toMatchObject({ action: 'update', resourceType: 'Device', reason: 'lost', actor: 'admin' });
    const events = await t.api(
      'GET',
      `/api/v1/admin/security-events?device=${revoked.id}&kind=device-revoked`,
    );
    expect(events.body.items[0]).toMatchObject({
      source: expect.stringMatching(/127\.0\.0\.1/),
      detail: 'by admin: lost',
    });
    // A second revocation is refused, naming the first.
    const again = await t.api('POST', `/api/v1/admin/devices/${revoked.id}/revoke`, { reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/was revoked already at/);
  });

  it('quarantines a device that sends forged signatures after the threshold, and not a well-behaved one', async () => {
    const forger = await provisionDevice(t, 'forger-dev');
    const good = await provisionDevice(t, 'good-dev');
    const forged = newKey();
    // Its own kid, someone else's private key: the signature does not verify.
    const forge = (seq: number) =>
      signCompactJws(
        {
          v: 1,
          device: forger.id,
          seq,
          ts: new Date().toISOString(),
          vitals: [{ code: 'heart-rate', value: 70 }],
        },
        forged.privateKey,
        forger.kid,
        'openiomt-reading+jws',
      );
    const goodClient = await good.connect(5);
    for (let seq = 1; seq <= 20; seq++)
      expect(await publish(goodClient, topicOf(good.id), good.sign(seq))).toBe(0);
    const client = await forger.connect(5);
    const ended = closed(client);
    for (let seq = 1; seq <= 4; seq++)
      expect(await publish(client, topicOf(forger.id), forge(seq))).toBe(NOT_AUTHORIZED);
    expect((await t.api('GET', `/api/v1/admin/devices/${forger.id}`)).body.quarantine).toBeUndefined();
    expect(await publish(client, topicOf(forger.id), forge(5))).toBe(NOT_AUTHORIZED);
    await ended; // the detector quarantined it and closed its session
    client.end(true);
    const device = (await t.api('GET', `/api/v1/admin/devices/${forger.id}`)).body;
    expect(device.quarantine.by).toBe('intrusion-detection');
    expect(device.quarantine.reason).toContain('forged-or-acl: 5 refusals in 60 s');
    expect(device.quarantine.reason).toContain('bad signature 5');
    expect(await securityKinds(forger.id)).toEqual(
      expect.arrayContaining(['bad-signature', 'intrusion-detected', 'device-quarantined']),
    );
    // The detector acted on nobody's request: its events name it, and no address.
    const detected = (
      await t.api('GET', `/api/v1/admin/security-events?device=${forger.id}&limit=200`)
    ).body.items.filter((e: any) => e.kind === 'intrusion-detected' || e.kind === 'device-quarantined');
    expect(detected).toHaveLength(2);
    for (const e of detected) {
      expect(e.subsystem).toBe('intrusion-detection');
      expect(e).not.toHaveProperty('source');
    }
    // The well-behaved device was never touched.
    expect(await publish(goodClient, topicOf(good.id), good.sign(21))).toBe(0);
    goodClient.end(true);
    expect((await t.api('GET', `/api/v1/admin/devices/${good.id}`)).body.quarantine).toBeUndefined();
    expect(await securityKinds(good.id)).not.toContain('intrusion-detected');
  });

  it('blocks an address after failed logins, never the device it named; the block ends by itself', async () => {
    // A platform of its own: its loopback address gets blocked, and the block is short.
    const own = await startTestPlatform(backend, { intrusionAuthFailureThreshold: 5, intrusionBlockS: 3 });
    try {
      const d = await provisionDevice(own, 'guessed-dev');
      const wrong = newKey();
      const guess = () =>
        connectMqtt(own.platform.mqttUrl, {
          username: d.id,
          password: signCompactJws({ sub: d.id }, wrong.privateKey, d.kid, 'JWT'),
          protocolVersion: 5,
        });
      for (let i = 0; i < 5; i++) await expect(guess()).rejects.toThrow();
      // The device's own, valid token from the same address is refused now too.
      await expect(d.connect(5)).rejects.toThrow();
      const events = async () =>
        (await own.api('GET', '/api/v1/admin/security-events?limit=200')).body.items as {
          kind: string;
          source?: string;
          subsystem?: string;
          detail: string;
        }[];
      await expect
        .poll(async () => (await events()).filter((e) => e.kind === 'intrusion-detected'))
        .toEqual([
          expect.objectContaining({
            source: expect.stringContaining('127.0.0.1'),
            subsystem: 'intrusion-detection',
            detail: expect.stringMatching(/failed-authentication: 5 refusals in 60 s.*refused until/),
          }),
        ]);
      // Refusals while blocked are not written one by one (the block is on record).
      expect((await events()).filter((e) => e.kind === 'auth-failed')).toHaveLength(5);
      expect((await own.api('GET', `/api/v1/admin/devices/${d.id}`)).body.quarantine).toBeUndefined();
      await new Promise((r) => setTimeout(r, 3_100));
      const client = await d.connect(5);
      expect(await publish(client, topicOf(d.id), d.sign(1))).toBe(0);
      client.end(true);
    } finally {
      await own.close();
    }
  }, 60_000);

  it('quarantines and releases from the command line', async () => {
    const d = await provisionDevice(t, 'cli-quarantine-dev');
    const env = { ...process.env, OPENIOMT_URL: t.platform.httpUrl, OPENIOMT_ADMIN_TOKEN: t.adminToken };
    const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env }).then((r) => r.stdout);
    const q = JSON.parse(await cli('device', 'quarantine', d.id, '--reason', 'bench test'));
    expect(q.quarantine).toMatchObject({ reason: 'bench test' });
    expect(await cli('device', 'list', '--status', 'quarantined')).toContain(d.id);
    const r = JSON.parse(await cli('device', 'release', d.id, '--reason', 'done'));
    expect(r.quarantine).toBeUndefined();
    expect(r.released.reason).toBe('bench test');
  }, 60_000);
});
