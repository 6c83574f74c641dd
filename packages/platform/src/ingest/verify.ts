import {
  decodeReading,
  fail,
  type ObservationIndexEntry,
  observationIndex,
  ok,
  parseCompactJws,
  type ReadingMessage,
  type Rejection,
  type Result,
  reject,
  verifyJwsAsync,
} from '@openiomt/core';
import type { DeviceRegistry, LiveKey } from './device-registry.ts';
import type { VerifyPool } from './verify-pool.ts';
import { type ReadingSummary, refused, summarize, type WorkVerdict } from './verify-work.ts';

export interface VerifyPolicy {
  readonly maxClockSkewS: number;
  readonly maxMessageAgeS: number;
  readonly maxMessageBytes: number;
}

export interface VerifiedMessage {
  /** The compact JWS as received (trimmed): what is stored and compared to judge repeats. */
  readonly compact: string;
  readonly reading: ReadingSummary;
  readonly observations: readonly ObservationIndexEntry[];
  readonly kid: string;
  readonly patientId: string;
  /** The decoded message; decoded again on first use when a verify worker did the checking. */
  message(): ReadingMessage;
}

/** A refusal names the device and the seq when they are known (seq only from a verified signature). */
type Verification = Result<VerifiedMessage> & { deviceId?: string; seq?: number };

/**
 * Everything that decides whether one signed message may be believed, cheapest check first: size, JWS
 * shape, a known live key, the signature, the payload schema, the device named in it, its clock and its
 * patient at that time. Replays are judged later, against what is stored.
 *
 * With a verify pool, parse + signature + decode run on a worker thread; the main thread reads only the
 * kid from the header to find the key. Rejections are the same either way: when a key or device check
 * fails, the full parse is run here first, so a malformed message is still reported as malformed.
 */
export async function verifyMessage(
  raw: Buffer,
  authenticatedDevice: string | undefined,
  nowMs: number,
  policy: VerifyPolicy,
  registry: DeviceRegistry,
  pool?: VerifyPool,
): Promise<Verification> {
  if (raw.length > policy.maxMessageBytes)
    return fail(reject('oversize', `message is ${raw.length} bytes; the limit is ${policy.maxMessageBytes}`));
  const compact = raw.toString('latin1').trim();
  const offThread = pool?.usable === true;
  let kid = offThread ? peekKid(compact) : undefined;
  if (kid === undefined) {
    const parsed = parseCompactJws(compact);
    if (!parsed.ok) return parsed;
    kid = parsed.value.header.kid;
  }
  const key = registry.cachedKey(kid) ?? (await registry.key(kid));
  if (!key) return refusal(compact, offThread, reject('unknown-key', `no device key with kid ${kid}`));
  const deviceId = key.deviceId;
  if (authenticatedDevice !== undefined && authenticatedDevice !== deviceId)
    return refusal(
      compact,
      offThread,
      reject('device-mismatch', `signed by ${deviceId}'s key but sent by ${authenticatedDevice}`),
      deviceId,
    );
  const device = registry.cachedDevice(deviceId) ?? (await registry.device(deviceId));
  if (!device)
    return refusal(
      compact,
      offThread,
      reject('unknown-device', `device ${deviceId} is not registered`),
      deviceId,
    );
  if (device.status === 'revoked' || key.revoked)
    return refusal(
      compact,
      offThread,
      reject('device-revoked', `device ${deviceId} or key ${key.kid} is revoked`),
      deviceId,
    );
  if (key.notAfterMs !== undefined && nowMs > key.notAfterMs)
    return refusal(
      compact,
      offThread,
      reject('unknown-key', `key ${key.kid} was rotated out at ${new Date(key.notAfterMs).toISOString()}`),
      deviceId,
    );
  // Before the signature: a quarantined device's messages are kept, not believed, whatever they hold.
  if (device.quarantine)
    return refusal(
      compact,
      offThread,
      reject('device-quarantined', `device ${deviceId} is quarantined: ${device.quarantine.reason}`),
      deviceId,
    );
  const checked = await checkOffOrOnThread(
    compact,
    key,
    policy.maxMessageBytes,
    offThread ? pool : undefined,
  );
  const { verdict } = checked;
  if (!verdict.ok)
    return verdict.atParse ? fail(verdict.rejection) : { ...fail(verdict.rejection), deviceId };
  return { ...(await judgeReading(checked, key, nowMs, policy, registry)), deviceId };
}

/**
 * Only reached off-thread when the header looked fine: the full parse decides what to report first.
 * (A module function: the per-message closure in verifyMessage stays anonymous and cheap.)
 */
function refusal(compact: string, offThread: boolean, rejection: Rejection, deviceId?: string): Verification {
  const parsed = offThread ? parseCompactJws(compact) : undefined;
  const r = parsed && !parsed.ok ? parsed.rejection : rejection;
  return deviceId === undefined ? fail(r) : { ...fail(r), deviceId };
}

interface Checked {
  readonly compact: string;
  readonly verdict: WorkVerdict;
  readonly message: () => ReadingMessage;
}

/** Signature, payload and Observation index: on a verify worker if there is one, else here. */
async function checkOffOrOnThread(
  compact: string,
  key: LiveKey,
  maxBytes: number,
  pool: VerifyPool | undefined,
): Promise<Checked> {
  if (pool) {
    try {
      const verdict = await pool.check(compact, key.x, maxBytes);
      return { compact, verdict, message: lazyMessage(compact) };
    } catch {
      // The pool failed (a worker died): the work is done here instead.
    }
  }
  const parsed = parseCompactJws(compact);
  if (!parsed.ok) return { compact, verdict: { ...parsed, atParse: true }, message: unreachable };
  if (!(await verifyJwsAsync(parsed.value, key.key)))
    return {
      compact,
      verdict: refused(reject('bad-signature', 'EdDSA signature does not verify')),
      message: unreachable,
    };
  const decoded = decodeReading(parsed.value.payload, { maxBytes });
  if (!decoded.ok) return { compact, verdict: decoded, message: unreachable };
  const message = decoded.value;
  const verdict: WorkVerdict = {
    ok: true,
    reading: summarize(message),
    observations: observationIndex(message),
  };
  return { compact, verdict, message: () => message };
}

/** The checks that need the registry: the device named in the payload, its clock and its patient. */
async function judgeReading(
  checked: Checked,
  key: LiveKey,
  nowMs: number,
  policy: VerifyPolicy,
  registry: DeviceRegistry,
): Promise<Result<VerifiedMessage> & { seq?: number }> {
  if (!checked.verdict.ok) return checked.verdict;
  const { reading, observations } = checked.verdict;
  const refuse = (r: Rejection) => ({ ok: false as const, rejection: r, seq: reading.seq });
  if (reading.device !== key.deviceId)
    return refuse(
      reject('device-mismatch', `payload names ${reading.device}, key belongs to ${key.deviceId}`, '/device'),
    );
  if (reading.tsMs > nowMs + policy.maxClockSkewS * 1000)
    return refuse(
      reject('stale-timestamp', `ts is ${Math.round((reading.tsMs - nowMs) / 1000)} s in the future`, '/ts'),
    );
  if (reading.tsMs < nowMs - policy.maxMessageAgeS * 1000)
    return refuse(reject('stale-timestamp', `ts is older than ${policy.maxMessageAgeS} s`, '/ts'));
  const patientId = await registry.patientAt(key.deviceId, reading.tsMs);
  if (patientId === undefined)
    return refuse(
      reject('unassigned-device', `device ${key.deviceId} had no patient at ${reading.ts}`, '/ts'),
    );
  return ok({
    compact: checked.compact,
    reading,
    observations,
    kid: key.kid,
    patientId,
    message: checked.message,
  });
}

/**
 * The kid from a compact JWS header, or undefined if the header does not look right (the caller then runs
 * the full parse, which says what is wrong). Only a hint for finding the key: the worker parses again.
 */
export function peekKid(compact: string): string | undefined {
  const dot = compact.indexOf('.');
  if (dot <= 0 || dot > 1024) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(compact.slice(0, dot), 'base64url').toString('utf8'));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' && kid.length > 0 && kid.length <= 128 ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The payload on first use, once. The verify worker decoded and schema-checked these very bytes, so here
 * they are only parsed: checking them again on the main thread cost as much as the rest of the reading's
 * way through analysis and rules.
 */
function lazyMessage(compact: string): () => ReadingMessage {
  let message: ReadingMessage | undefined;
  return () => {
    if (message) return message;
    const raw = JSON.parse(Buffer.from(compact.split('.')[1] ?? '', 'base64url').toString('utf8'));
    // The decoder's defaults: absent lists are empty.
    message = { ...raw, vitals: raw.vitals ?? [], waveforms: raw.waveforms ?? [] } as ReadingMessage;
    return message;
  };
}

function unreachable(): never {
  throw new Error('no message: the reading was refused');
}
