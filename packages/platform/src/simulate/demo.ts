/**
 * Demo mode (`openiomt start --demo`): a ward of 4 simulated patients streaming real recordings into the
 * running platform, through the same admin API, enrolment and MQTT path as real devices.
 *
 * The simulator authenticates with its own administrator credential, "demo-simulator", whose token lives
 * only in this process's memory. On a restart with the same data folder the demo patients and devices
 * already exist: they are taken over (the devices re-enrolled with fresh keys, since the old private keys
 * died with the old process) rather than created again.
 */
import { createLogger } from '../log.ts';
import type { RunningPlatform } from '../platform.ts';
import { hashToken, newAdminToken } from '../security/admin-credential.ts';
import type { Store } from '../store/types.ts';
import { runWard, type WardResult } from './ward.ts';

export const DEMO_CREDENTIAL = 'demo-simulator';
export const DEMO_PATIENTS = 4;
export const DEMO_ID_PREFIX = 'demo';

/**
 * Gives the demo credential a fresh token. The store only keeps hashes, so after a restart the previous
 * token is unknown; its hash is replaced (the credentials port has no update, hence the SQL here).
 */
export async function installDemoCredential(store: Store, token: string): Promise<void> {
  // The demo's token lives only in this process's memory, so every start renews it.
  await store.credentials.put({ name: DEMO_CREDENTIAL, tokenHash: hashToken(token) });
}

/** Starts the demo ward; resolves once the first second has been sent. stop() ends it cleanly. */
export async function startDemo(platform: RunningPlatform): Promise<{ stop(): Promise<void> }> {
  const token = newAdminToken();
  await installDemoCredential(platform.store, token);
  const abort = new AbortController();
  let streaming: () => void = () => undefined;
  const firstSecond = new Promise<void>((resolve) => {
    streaming = resolve;
  });
  const run: Promise<WardResult | undefined> = runWard({
    httpUrl: platform.httpUrl,
    mqttUrl: platform.mqttUrl,
    adminToken: token,
    patients: DEMO_PATIENTS,
    durationS: Number.POSITIVE_INFINITY,
    idPrefix: DEMO_ID_PREFIX,
    reuse: true,
    signal: abort.signal,
    onProgress: () => streaming(),
  });
  // Provisioning failures reach the caller; a failure later is logged (the platform keeps running).
  await Promise.race([firstSecond, run]);
  const running = run.catch((e: Error) => {
    createLogger(platform.config.logLevel).error({ err: e }, 'demo ward stopped');
    return undefined;
  });
  return {
    async stop() {
      abort.abort();
      await running;
    },
  };
}
