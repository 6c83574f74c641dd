import { connect } from 'node:net';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ProvisionError } from '../simulate/provision.ts';
import { RecordingError } from '../simulate/recordings.ts';
import { runWard, WardError, type WardProgress, type WardResult } from '../simulate/ward.ts';
import { adminConnection, CliError } from './admin-client.ts';

interface SimulateFlags {
  patients: string;
  duration: string;
  url?: string;
  mqttUrl?: string;
  tokenFile?: string;
  data?: string;
  vitalsEvery: string;
  idPrefix?: string;
}

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`${flag} must be a whole number 1..${max} (got "${value}")`);
  return n;
}

function httpUrlOf(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    throw new CliError(`--url "${value}" is not an http(s) URL: use http://host:port or https://host:port`);
  return value;
}

/**
 * Whether anything listens at the broker's address: checked before the ward is provisioned, so a wrong
 * --mqtt-url fails at once instead of after the whole duration, leaving patients and devices behind.
 */
async function brokerListening(mqttUrl: string): Promise<boolean> {
  const u = new URL(mqttUrl);
  const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function mqttUrlOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--mqtt-url "${value}" is not a URL: use mqtt://host:port or mqtts://host:port`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:')
    throw new CliError(`--mqtt-url must start with mqtt:// or mqtts:// (got ${url.protocol}//)`);
  return value;
}

const MAX_DEVICE_LINES = 10;

function summary(r: WardResult): string {
  const lines = [
    `Simulated ${r.patientIds.length} patients for ${r.elapsedS} s from ${r.dataDir}`,
    `  messages sent ${r.sent}, acknowledged ${r.acknowledged}, rejected ${r.rejected}, unconfirmed ${r.sent - r.acknowledged - r.rejected}`,
  ];
  // Every device with a refusal, and the first few others: a ward of hundreds stays readable.
  const shown = r.devices.filter((d, i) => d.rejected > 0 || d.acknowledged < d.sent || i < MAX_DEVICE_LINES);
  for (const d of shown) {
    const reasons = Object.entries(d.rejections).map(([reason, n]) => `${n}× ${reason}`);
    lines.push(
      `  ${d.deviceId} -> ${d.patientId} (${d.recording}): sent ${d.sent}, acknowledged ${d.acknowledged}, rejected ${d.rejected}${reasons.length ? ` [${reasons.join('; ')}]` : ''}`,
    );
  }
  if (shown.length < r.devices.length)
    lines.push(`  ... and ${r.devices.length - shown.length} more, all acknowledged`);
  return `${lines.join('\n')}\n`;
}

/** Turns the simulator's errors into advice for the command line. */
function explain(e: unknown): never {
  if (e instanceof ProvisionError) {
    if (e.status === 401)
      throw new CliError(
        `${e.message}: set OPENIOMT_ADMIN_TOKEN (or --token-file) to the token printed at the first start`,
      );
    if (e.status === 409)
      throw new CliError(`${e.message}: choose another --id-prefix (or leave it out for a fresh one)`);
    if (e.status === undefined)
      throw new CliError(`${e.message} (is the platform at --url running and reachable?)`);
    throw new CliError(e.message);
  }
  if (e instanceof RecordingError) throw new CliError(`${e.message} (or set OPENIOMT_SHARED_DATA)`);
  if (e instanceof WardError) throw new CliError(e.message);
  throw e;
}

/** `openiomt simulate`: a ward of simulated patients whose monitors stream real recordings. */
export function simulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('simulate a ward: patients whose monitors stream real PhysioNet recordings over MQTT')
    .addHelpText(
      'after',
      '\nEach simulated patient is put together from recordings of different people (an MIT-BIH ECG, a Challenge 2015\nPPG and respiration, MIMIC-II numerics): realistic traffic, not a coherent case. Heart rate from the ECG,\npulse rate from the PPG and the monitor numerics will not agree.',
    )
    .option('--patients <n>', 'number of simulated patients (one monitor each)', '4')
    .option('--duration <s>', 'seconds to stream (one signed message per monitor per second)', '60')
    .option('--url <url>', 'platform HTTP URL (or OPENIOMT_URL; default http://127.0.0.1:8080)')
    .option('--mqtt-url <url>', 'platform MQTT URL (or OPENIOMT_MQTT_URL; default mqtt://127.0.0.1:1883)')
    .option('--token-file <file>', 'file holding the administrator token (else OPENIOMT_ADMIN_TOKEN)')
    .option(
      '--data <dir>',
      'recordings folder (default OPENIOMT_SHARED_DATA, else ../shared/data beside the repository, else the shipped excerpts)',
    )
    .option('--vitals-every <s>', 'seconds per replayed numerics row (the source has one per minute)', '5')
    .option('--id-prefix <prefix>', 'prefix of the patient and device ids (default sim-<random>)')
    .action(async (flags: SimulateFlags) => {
      const connection = adminConnection({
        ...(flags.url ? { url: httpUrlOf(flags.url) } : {}),
        ...(flags.tokenFile ? { tokenFile: flags.tokenFile } : {}),
      });
      const patients = positiveInt(flags.patients, '--patients', 10_000);
      const durationS = positiveInt(flags.duration, '--duration', 7 * 86_400);
      const vitalsEveryS = positiveInt(flags.vitalsEvery, '--vitals-every', 3600);
      const mqttUrl = mqttUrlOf(flags.mqttUrl ?? process.env.OPENIOMT_MQTT_URL ?? 'mqtt://127.0.0.1:1883');
      if (!(await brokerListening(mqttUrl)))
        throw new CliError(
          `nothing answers at the MQTT broker address ${mqttUrl}: is the platform running? Set --mqtt-url`,
        );

      const bar = new cliProgress.SingleBar(
        {
          format:
            'simulate |{bar}| {value}/{total} s | sent {sent} | acknowledged {acknowledged} | rejected {rejected}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let started = false;
      const onProgress = (p: WardProgress) => {
        const payload = { sent: p.sent, acknowledged: p.acknowledged, rejected: p.rejected };
        if (!started) {
          bar.start(durationS, p.elapsedS, payload);
          started = true;
        }
        bar.update(p.elapsedS, payload);
      };
      let result: WardResult;
      try {
        result = await runWard({
          httpUrl: connection.url,
          mqttUrl,
          adminToken: connection.token,
          patients,
          durationS,
          vitalsEveryS,
          onProgress,
          signal: abort.signal,
          ...(flags.data ? { dataDir: flags.data } : {}),
          ...(flags.idPrefix ? { idPrefix: flags.idPrefix } : {}),
        });
      } catch (e) {
        explain(e);
      } finally {
        if (started) bar.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.stdout.write(summary(result));
      if (result.sent > 0 && result.acknowledged === 0 && result.rejected === 0)
        throw new CliError(
          `no message was acknowledged: is the MQTT broker at ${mqttUrl} reachable? Set --mqtt-url`,
        );
      if (result.rejected > 0 || result.acknowledged < result.sent) process.exitCode = 1;
    });
}
