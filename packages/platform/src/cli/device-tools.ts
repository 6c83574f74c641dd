import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { deviceTokenClaims, signCompactJws } from '@openiomt/core';
import {
  EnrolmentError,
  enrol,
  enrolmentRequest,
  generateDeviceKey,
  KeyFileExistsError,
  loadDeviceKey,
  rotateKey,
  saveDeviceKey,
} from '@openiomt/device-sdk';
import type { Command } from 'commander';
import { CliError, unreachable } from './admin-client.ts';

const platformUrl = (o: { url?: string }): string =>
  (o.url ?? process.env.OPENIOMT_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');

async function readKey(path: string) {
  try {
    return await loadDeviceKey(path);
  } catch (e) {
    throw new CliError(
      `cannot load the device key from ${path}: ${(e as Error).message}. Make one with \`openiomt device keygen --out ${path}\``,
    );
  }
}

/** Calls the platform for a device; a refusal or an unreachable platform becomes a CliError saying why. */
async function askPlatform<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof EnrolmentError) throw new CliError(e.message);
    throw unreachable(url, e);
  }
}

/** The fields of a signed reading that the command sets from its arguments, never from the JSON given. */
const ENVELOPE = ['v', 'device', 'seq', 'ts'] as const;

/**
 * What a device (or a person acting for one, with mosquitto_pub or curl) does: make a key, enrol it, get
 * an MQTT password, sign a reading, rotate the key. The private key stays in the file it was written to.
 */
export function deviceToolCommands(device: Command): void {
  device
    .command('keygen')
    .description('make an Ed25519 key pair for a device (private key file mode 0600)')
    .requiredOption('--out <file>', 'where to write the private key (PEM); an existing file is kept')
    .option('--force', 'replace an existing key file (an enrolled key in it is lost for good)')
    .action(async (o) => {
      const key = generateDeviceKey();
      // Replacing an enrolled key with a new one locks the device out: only on request.
      await saveDeviceKey(o.out, key, { overwrite: o.force === true }).catch((e: Error) => {
        if (e instanceof KeyFileExistsError)
          throw new CliError(
            `${o.out} exists and is kept (it may be an enrolled key): pass --force to replace it`,
          );
        throw new CliError(`cannot write the key to ${o.out}: ${e.message}`);
      });
      process.stdout.write(`${JSON.stringify({ kid: key.kid, publicJwk: key.publicJwk }, null, 2)}\n`);
    });
  device
    .command('enrol <id>')
    .description("enrol the device's public key with its one-time enrolment code")
    .requiredOption('--key <file>', 'private key file from keygen')
    .requiredOption('--code <code>', 'enrolment code from `openiomt device register`')
    .option('--url <url>', 'platform URL (default OPENIOMT_URL or http://127.0.0.1:8080)')
    .option(
      '--print-request',
      'print the request body instead of sending it (to POST with curl within 10 min)',
    )
    .action(async (id, o) => {
      const key = await readKey(o.key);
      if (o.printRequest) {
        process.stdout.write(`${JSON.stringify(enrolmentRequest(id, o.code, key))}\n`);
        return;
      }
      const r = await askPlatform(platformUrl(o), () => enrol(platformUrl(o), id, o.code, key));
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  device
    .command('rotate-key <id>')
    .description('replace the device key; the old one keeps working for the overlap window')
    .requiredOption('--key <file>', 'current private key file')
    .requiredOption('--new-key <file>', 'where to write the new private key (must not exist yet)')
    .option('--url <url>', 'platform URL (default OPENIOMT_URL or http://127.0.0.1:8080)')
    .action(async (id, o) => {
      const current = await readKey(o.key);
      if (existsSync(o.newKey)) throw new CliError(`${o.newKey} exists: choose another --new-key`);
      const next = generateDeviceKey();
      // Saved before the platform learns of it: a key the platform accepts must never exist nowhere. Never
      // over an existing file (also one created since the check above): that could be an enrolled key.
      await saveDeviceKey(o.newKey, next).catch((e: Error) => {
        throw new CliError(`cannot write the new key to ${o.newKey}: ${e.message}. Nothing was changed`);
      });
      const r = await askPlatform(platformUrl(o), () => rotateKey(platformUrl(o), id, current, next)).catch(
        async (e: Error) => {
          await rm(o.newKey, { force: true });
          throw new CliError(`${e.message}. The key was not rotated; ${o.key} is still the device's key`);
        },
      );
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
      'sign a reading: reads {"vitals":[...],"waveforms":[...]} as JSON (file or stdin), prints the JWS. The device id, --seq and --ts are set by the command: the same fields in the JSON are replaced (and named on stderr)',
    )
    .requiredOption('--key <file>', 'private key file')
    .requiredOption('--seq <n>', 'sequence number: higher than any this device sent before')
    .option('--ts <instant>', 'time of the reading, ISO 8601 (default: now)')
    .option('--file <file>', 'JSON content (default: standard input)')
    .action(async (id, o) => {
      const key = await readKey(o.key);
      const seq = Number(o.seq);
      if (!Number.isSafeInteger(seq) || seq < 1) throw new CliError('--seq must be a positive whole number');
      const ts = o.ts ?? new Date().toISOString();
      if (Number.isNaN(Date.parse(ts))) throw new CliError(`--ts must be an ISO 8601 instant, got ${o.ts}`);
      let content: Record<string, unknown>;
      try {
        content = JSON.parse(readFileSync(o.file ?? 0, 'utf8'));
      } catch (e) {
        throw new CliError(`the reading must be JSON: ${(e as Error).message}`);
      }
      if (typeof content !== 'object' || content === null || Array.isArray(content))
        throw new CliError('the reading must be a JSON object such as {"vitals":[...]}');
      const replaced = ENVELOPE.filter((f) => f in content);
      if (replaced.length > 0)
        process.stderr.write(
          `note: ${replaced.join(', ')} in the JSON replaced by the command's (device ${id}, --seq ${seq}, --ts ${ts})\n`,
        );
      const message = { ...content, v: 1, device: id, seq, ts };
      process.stdout.write(`${signCompactJws(message, key.privateKey, key.kid, 'openiomt-reading+jws')}\n`);
    });
}
