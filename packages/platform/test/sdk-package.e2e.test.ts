/**
 * The device SDK as a device maker meets it outside this repository: `npm run sdk:pack` builds a tarball;
 * a fresh project gets it in its node_modules (with its one dependency, mqtt), its TypeScript type-checks
 * against the shipped declarations, and a plain `node` script (no TypeScript loader) makes a key, enrols
 * with the one-time code, and delivers readings over MQTT and over HTTPS to a real platform.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packDeviceSdk } from '../../sdk/scripts/pack.ts';
import { backends, startTestPlatform, type TestPlatform } from './harness.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The device's program, as its maker would write it: ES module, plain JavaScript. */
const DEVICE_SCRIPT = `
import { DeviceClient, enrol, generateDeviceKey, loadDeviceKey, saveDeviceKey } from '@openiomt/device-sdk';
const [httpUrl, mqttUrl, deviceId, code, dir] = process.argv.slice(2);
const key = generateDeviceKey();
await enrol(httpUrl, deviceId, code, key);
await saveDeviceKey(dir + '/key.pem', key);
const loaded = await loadDeviceKey(dir + '/key.pem');
const refused = [];
const onRejected = (seq, reason) => refused.push({ seq, reason });
const transports = [
  { kind: 'mqtt', url: mqttUrl, protocolVersion: 5, onRejected },
  { kind: 'http', baseUrl: httpUrl, onRejected },
];
const seqs = [];
for (const transport of transports) {
  const device = await DeviceClient.open({ deviceId, key: loaded, dataDir: dir, transport });
  for (const value of [71, 72]) seqs.push(await device.send({ vitals: [{ code: 'heart-rate', value }] }));
  await device.flushed();
  await device.close();
}
process.stdout.write(JSON.stringify({ kid: loaded.kid, seqs, refused }));
`;

/** The same in TypeScript, only type-checked: what the declarations must accept and reject. */
const TYPED_SCRIPT = `
import { DeviceClient, type DeviceKeyPair, generateDeviceKey } from '@openiomt/device-sdk';
const key: DeviceKeyPair = generateDeviceKey();
const kid: string = key.kid;
export async function run(): Promise<number> {
  const device = await DeviceClient.open({
    deviceId: 'd1',
    key,
    dataDir: '/tmp/x',
    transport: { kind: 'mqtt', url: 'mqtts://example.org:8883' },
  });
  const seq: number = await device.send({ vitals: [{ code: 'spo2', value: 97 }] });
  // @ts-expect-error an unknown vital code is a type error
  await device.send({ vitals: [{ code: 'not-a-vital', value: 1 }] });
  return seq + kid.length;
}
`;

describe('the packed device SDK in a project of its own', () => {
  const backend = backends[0]!; // the package is what is tested here, not the store
  let t: TestPlatform;
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'openiomt-sdk-consumer-'));
    tarball = (await packDeviceSdk(join(project, 'tarball'))).tarball;
    // What `npm install <tarball>` does, without the network: unpack it, and link its one dependency.
    const installed = join(project, 'node_modules/@openiomt/device-sdk');
    await mkdir(installed, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    const require = createRequire(join(REPO, 'package.json'));
    const linkPackage = async (name: string, dir: string) => {
      await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
      await symlink(dir, join(project, 'node_modules', name), 'dir');
    };
    await linkPackage('mqtt', dirname(require.resolve('mqtt/package.json')));
    await linkPackage('@types/node', join(REPO, 'node_modules/@types/node'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-patch', type: 'module' }));
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('ships one ES module, declarations and a manifest with only mqtt as a dependency', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/index.js');
    expect(files).toContain('package/types/sdk/src/index.d.ts');
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    );
    expect(Object.keys(manifest.dependencies)).toEqual(['mqtt']);
    expect(manifest.private).toBeUndefined();
  });

  it("type-checks a device's TypeScript against the shipped declarations", async () => {
    await writeFile(join(project, 'device.ts'), TYPED_SCRIPT);
    const tsconfig = {
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        noEmit: true,
        types: ['node'],
      },
      files: ['device.ts'],
    };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = createRequire(join(REPO, 'package.json')).resolve('typescript/bin/tsc');
    const out = run(process.execPath, [tsc, '-p', project], project);
    expect(await out).toMatchObject({ code: 0 });
  });

  it('enrols, then delivers over MQTT and HTTPS from plain node', async () => {
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    const reg = await t.api('POST', '/api/v1/admin/devices', { id: 'packed-sdk-1', kind: 'ecg-patch' });
    expect(reg.status).toBe(201);
    const assign = await t.api('POST', '/api/v1/admin/devices/packed-sdk-1/assignments', {
      patientId: patient.body.id,
      from: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(assign.status).toBe(201);
    await writeFile(join(project, 'device.mjs'), DEVICE_SCRIPT);
    const dataDir = join(project, 'device-data');
    await mkdir(dataDir);
    const result = await run(
      process.execPath,
      ['device.mjs', t.platform.httpUrl, t.platform.mqttUrl, 'packed-sdk-1', reg.body.enrolmentCode, dataDir],
      project,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    // The second open skips the rest of the first one's reserved block of sequence numbers (1,000).
    expect(report.seqs).toEqual([1, 2, 1001, 1002]);
    expect(report.refused).toEqual([]);
    const device = await t.api('GET', '/api/v1/admin/devices/packed-sdk-1');
    expect(device.body.highSeq).toBe(1002);
    const observations = await t.api('GET', `/fhir/R4/Observation?patient=${patient.body.id}&_count=100`);
    expect(observations.body.entry).toHaveLength(4);
  });
});

/** Runs a program to its end; never through a shell, and with no TypeScript loader in NODE_OPTIONS. */
function run(cmd: string, args: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const env = { ...process.env, NODE_OPTIONS: '' };
    const child = spawn(cmd, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
