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

/** A demo person whose password is still to be chosen at `setupPath`. */
export interface DemoPerson {
  readonly role: string;
  readonly username: string;
  readonly setupPath: string;
}

/**
 * The people who make the demo worth opening in a browser: a clinician in a care team with the demo
 * patients, and the first demo patient's own account. Made once; a restart leaves existing accounts alone
 * (their passwords were chosen) and only gives a fresh link to one whose password was never set.
 */
export async function ensureDemoPeople(platform: RunningPlatform): Promise<DemoPerson[]> {
  const { store, accounts } = platform;
  const patients = Array.from({ length: DEMO_PATIENTS }, (_, i) => `${DEMO_ID_PREFIX}-patient-${i + 1}`);
  const wanted = [
    { username: 'demo.clinician', roles: ['clinician'], displayName: 'Dr Demo Clinician' },
    { username: 'demo.patient', roles: ['patient'], patientId: patients[0], displayName: 'Demo Patient' },
  ];
  const out: DemoPerson[] = [];
  const ids: Record<string, string> = {};
  for (const w of wanted) {
    const existing = await store.users.recordByUsername(w.username);
    if (existing) {
      ids[w.username] = existing.user.id;
      if (!existing.passwordHash)
        out.push({
          role: w.roles[0] as string,
          username: w.username,
          setupPath: (await accounts.newSetupLink(existing.user.id)).setupPath,
        });
      continue;
    }
    const made = await accounts.create(w);
    ids[w.username] = made.user.id;
    out.push({ role: w.roles[0] as string, username: w.username, setupPath: made.setupPath });
  }
  const teams = await store.access.careTeams();
  const team = teams.find((t) => t.name === 'Demo ward') ?? (await store.access.createCareTeam('Demo ward'));
  await store.access.setMembership(team.id, 'member', ids['demo.clinician'] as string, true);
  for (const p of patients) await store.access.setMembership(team.id, 'patient', p, true);
  return out;
}

/** Starts the demo ward; resolves once the first second has been sent. stop() ends it cleanly. */
export async function startDemo(
  platform: RunningPlatform,
): Promise<{ stop(): Promise<void>; people: DemoPerson[] }> {
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
  const people = await ensureDemoPeople(platform);
  return {
    people,
    async stop() {
      abort.abort();
      await running;
    },
  };
}
