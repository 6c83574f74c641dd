/**
 * Provisioning of simulated beds through the administrator's HTTP API, exactly as an administrator and a
 * device would: create the patient, register the device (one-time enrolment code), enrol a freshly
 * generated key with the SDK, assign the device to the patient. With `reuse`, a bed that already exists
 * (a restarted demo) is taken over instead: a fresh enrolment code replaces the key that was lost with the
 * previous process, and sequence numbers continue above the device's highest.
 */
import { type DeviceKeyPair, enrol, generateDeviceKey } from '@openiomt/device-sdk';

export interface AdminApi {
  /** Base URL of the platform's HTTP API, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly token: string;
}

export interface BedSpec {
  readonly patientId: string;
  readonly deviceId: string;
  readonly displayName: string;
}

export interface ProvisionedBed {
  readonly patientId: string;
  readonly deviceId: string;
  readonly key: DeviceKeyPair;
  /** Highest sequence number the platform has stored for the device (0 for a new device). */
  readonly lastSeq: number;
  /** True when patient and device existed before. */
  readonly reused: boolean;
}

export class ProvisionError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

/** The fields of admin API responses the simulator reads (all optional: checked where used). */
interface ApiBody {
  readonly status?: string;
  readonly highSeq?: number;
  readonly enrolmentCode?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly field?: string;
}

interface ApiResponse {
  status: number;
  body: unknown;
}

const fields = (body: unknown): ApiBody =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as ApiBody) : {};

async function call(
  api: AdminApi,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  let res: Response;
  try {
    res = await fetch(`${api.url.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${api.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new ProvisionError(
      `cannot reach the platform at ${api.url}: ${String((e as Error).cause ?? (e as Error).message)}`,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

function refused(what: string, r: ApiResponse): ProvisionError {
  if (r.status === 401)
    return new ProvisionError(`${what}: the platform refused the administrator token`, 401);
  const b = fields(r.body);
  const detail = b.detail ?? b.title ?? 'no explanation given';
  return new ProvisionError(
    `${what}: HTTP ${r.status} ${detail}${b.field ? ` (field ${b.field})` : ''}`,
    r.status,
  );
}

async function ask(
  api: AdminApi,
  what: string,
  status: number,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
) {
  const r = await call(api, method, path, body);
  if (r.status !== status) throw refused(what, r);
  return r.body;
}

/** The patient, created unless `reuse` and it exists. Returns whether it existed. */
async function ensurePatient(api: AdminApi, bed: BedSpec, reuse: boolean): Promise<boolean> {
  if (reuse) {
    const r = await call(api, 'GET', `/api/v1/admin/patients/${encodeURIComponent(bed.patientId)}`);
    if (r.status === 200) return true;
    if (r.status !== 404) throw refused(`looking up patient ${bed.patientId}`, r);
  }
  await ask(api, `creating patient ${bed.patientId}`, 201, 'POST', '/api/v1/admin/patients', {
    id: bed.patientId,
    displayName: bed.displayName,
  });
  return false;
}

function enrolmentCodeOf(what: string, body: unknown): string {
  const code = fields(body).enrolmentCode;
  if (typeof code !== 'string') throw new ProvisionError(`${what}: the response has no enrolmentCode`);
  return code;
}

/** An enrolment code for the device: from registering it, or (reuse) a fresh one for the existing device. */
async function enrolmentCodeFor(
  api: AdminApi,
  bed: BedSpec,
  reuse: boolean,
): Promise<{ code: string; lastSeq: number; existed: boolean }> {
  const path = `/api/v1/admin/devices/${encodeURIComponent(bed.deviceId)}`;
  if (reuse) {
    const r = await call(api, 'GET', path);
    if (r.status === 200) {
      const device = fields(r.body);
      if (device.status === 'revoked')
        throw new ProvisionError(`device ${bed.deviceId} is revoked: the simulator will not bring it back`);
      const what = `new enrolment code for ${bed.deviceId}`;
      const code = enrolmentCodeOf(what, await ask(api, what, 201, 'POST', `${path}/enrolment-code`));
      return { code, lastSeq: Number(device.highSeq ?? 0), existed: true };
    }
    if (r.status !== 404) throw refused(`looking up device ${bed.deviceId}`, r);
  }
  const what = `registering device ${bed.deviceId}`;
  const reg = await ask(api, what, 201, 'POST', '/api/v1/admin/devices', {
    id: bed.deviceId,
    kind: 'monitor',
    model: 'OpenIoMT ward simulator',
    manufacturer: 'OpenIoMT',
    expectedIntervalS: 1,
  });
  return { code: enrolmentCodeOf(what, reg), lastSeq: 0, existed: false };
}

/** Assigns the device to the patient unless that assignment is already current. */
async function ensureAssignment(api: AdminApi, bed: BedSpec, existed: boolean): Promise<void> {
  const path = `/api/v1/admin/devices/${encodeURIComponent(bed.deviceId)}/assignments`;
  let from = new Date(Date.now() - 60_000).toISOString(); // a minute back absorbs clock differences
  if (existed) {
    const body = await ask(api, `assignments of ${bed.deviceId}`, 200, 'GET', path);
    const history = (Array.isArray(body) ? body : []) as { patientId?: string; to?: string }[];
    const current = history.find((a) => a.to === undefined);
    if (current?.patientId === bed.patientId) return;
    if (current) await ask(api, `ending the assignment of ${bed.deviceId}`, 200, 'POST', `${path}/end`, {});
    if (history.length > 0) from = new Date().toISOString(); // must not overlap the period just ended
  }
  await ask(api, `assigning ${bed.deviceId} to ${bed.patientId}`, 201, 'POST', path, {
    patientId: bed.patientId,
    from,
  });
}

/** Provisions one bed end to end through the HTTP APIs. */
export async function provisionBed(api: AdminApi, bed: BedSpec, reuse = false): Promise<ProvisionedBed> {
  const patientExisted = await ensurePatient(api, bed, reuse);
  const { code, lastSeq, existed } = await enrolmentCodeFor(api, bed, reuse);
  const key = generateDeviceKey();
  try {
    await enrol(api.url, bed.deviceId, code, key);
  } catch (e) {
    throw new ProvisionError(`enrolling ${bed.deviceId}: ${(e as Error).message}`);
  }
  await ensureAssignment(api, bed, existed);
  return {
    patientId: bed.patientId,
    deviceId: bed.deviceId,
    key,
    lastSeq,
    reused: patientExisted && existed,
  };
}
