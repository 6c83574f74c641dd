import { readFileSync } from 'node:fs';
import { deviceTokenClaims, signCompactJws } from '@openiomt/core';
import { enrol, generateDeviceKey, loadDeviceKey, rotateKey, saveDeviceKey } from '@openiomt/device-sdk';
import type { Command } from 'commander';
import { CliError } from './admin-client.ts';

const platformUrl = (o: { url?: string }): string =>
  (o.url ?? process.env.OPENIOMT_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');

function readKey(path: string) {
  try {
    return loadDeviceKey(path);
  } catch (e) {
    throw new CliError(
      `cannot load the device key from ${path}: ${(e as Error).message}. Make one with \`openiomt device keygen --out ${path}\``,
    );
  }
}

/**
 * What a device (or a person acting for one, with mosquitto_pub or curl) does: make a key, enrol it, get
 * an MQTT password, sign a reading, rotate the key. The private key stays in the file it was written to.
 */
export function deviceToolCommands(device: Command): void {
  device
    .command('keygen')
    .description('make an Ed25519 key pair for a device (private key file mode 0600)')
    .requiredOption('--out <file>', 'where to write the private key (PEM)')
    .action(async (o) => {
      const key = generateDeviceKey();
      await saveDeviceKey(o.out, key);
      process.stdout.write(`${JSON.stringify({ kid: key.kid, publicJwk: key.publicJwk }, null, 2)}\n`);
    });
  device
    .command('enrol <id>')
    .description("enrol the device's public key with its one-time enrolment code")
    .requiredOption('--key <file>', 'private key file from keygen')
    .requiredOption('--code <code>', 'enrolment code from `openiomt device register`')
    .option('--url <url>', 'platform URL (default OPENIOMT_URL or http://127.0.0.1:8080)')
    .action(async (id, o) => {
      const r = await enrol(platformUrl(o), id, o.code, await readKey(o.key));
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  device
    .command('rotate-key <id>')
    .description('replace the device key; the old one keeps working for the overlap window')
    .requiredOption('--key <file>', 'current private key file')
    .requiredOption('--new-key <file>', 'where to write the new private key')
    .option('--url <url>', 'platform URL')
    .action(async (id, o) => {
      const current = await readKey(o.key);
      const next = generateDeviceKey();
      const r = await rotateKey(platformUrl(o), id, current, next);
      await saveDeviceKey(o.newKey, next);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  device
    .command('token <id>')
    .description('print a short-lived device token: the MQTT password (username = device id)')
    .requiredOption('--key <file>', 'private key file')
    .option('--lifetime <seconds>', 'token lifetime (at most 3600)', '300')
    .action(async (id, o) => {
      const key = await readKey(o.key);
      const lifetime = Number(o.lifetime);
      if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600)
        throw new CliError('--lifetime must be 1..3600 seconds');
      process.stdout.write(
        `${signCompactJws(deviceTokenClaims(id, Date.now(), lifetime), key.privateKey, key.kid, 'JWT')}\n`,
      );
    });
  device
    .command('sign <id>')
    .description(
      'sign a reading: reads {"vitals":[...],"waveforms":[...]} as JSON (file or stdin), prints the JWS',
    )
    .requiredOption('--key <file>', 'private key file')
    .requiredOption('--seq <n>', 'sequence number: higher than any this device sent before')
    .option('--file <file>', 'JSON content (default: standard input)')
    .action(async (id, o) => {
      const key = await readKey(o.key);
      const seq = Number(o.seq);
      if (!Number.isSafeInteger(seq) || seq < 1) throw new CliError('--seq must be a positive whole number');
      let content: Record<string, unknown>;
      try {
        content = JSON.parse(readFileSync(o.file ?? 0, 'utf8'));
      } catch (e) {
        throw new CliError(`the reading must be JSON: ${(e as Error).message}`);
      }
      const message = { v: 1, device: id, seq, ts: new Date().toISOString(), ...content };
      process.stdout.write(`${signCompactJws(message, key.privateKey, key.kid, 'openiomt-reading+jws')}\n`);
    });
}
