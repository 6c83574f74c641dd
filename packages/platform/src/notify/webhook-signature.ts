/**
 * Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret (its text, as
 * UTF-8, is the key), sent as `OpenIoMT-Webhook-Signature: v1=<hex>`. Signing the timestamp with the
 * body lets a receiver refuse replays of an old delivery: it checks the signature, then that the
 * timestamp is recent. Pure functions, shared by the deliverer, receivers and tests (docs/webhooks.md).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'OpenIoMT-Webhook-Signature';
export const TIMESTAMP_HEADER = 'OpenIoMT-Webhook-Timestamp';
export const ID_HEADER = 'OpenIoMT-Webhook-Id';

/** How far a receiver accepts a timestamp from its own clock by default, seconds. */
export const DEFAULT_TOLERANCE_S = 300;

const TIMESTAMP = /^\d{1,12}$/;
const V1 = /^v1=([0-9a-f]{64})$/;

/** The signature header value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string | Uint8Array): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RangeError('timestamp must be whole unix seconds');
  return `v1=${hmac(secret, String(timestamp), body).toString('hex')}`;
}

export interface WebhookToVerify {
  readonly secret: string;
  /** The OpenIoMT-Webhook-Timestamp header as received. */
  readonly timestamp: string | undefined;
  /** The OpenIoMT-Webhook-Signature header as received; several space-separated values are accepted. */
  readonly signature: string | undefined;
  /** The raw request body, exactly the bytes received (not re-serialised JSON). */
  readonly body: string | Uint8Array;
  /** The receiver's clock, unix seconds (default: now). */
  readonly nowS?: number;
  /** Largest accepted distance between timestamp and now, seconds (default 300). */
  readonly toleranceS?: number;
}

/**
 * True when one of the signatures is the HMAC of this timestamp and body under the secret, compared in
 * constant time, and the timestamp is within the tolerance of now.
 */
export function verifyWebhookSignature(w: WebhookToVerify): boolean {
  if (w.timestamp === undefined || w.signature === undefined || !TIMESTAMP.test(w.timestamp)) return false;
  const nowS = w.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - Number(w.timestamp)) > (w.toleranceS ?? DEFAULT_TOLERANCE_S)) return false;
  const expected = hmac(w.secret, w.timestamp, w.body);
  let ok = false;
  for (const candidate of w.signature.split(' ')) {
    const hex = V1.exec(candidate)?.[1];
    // Both buffers are 32 bytes here, so timingSafeEqual never throws on length.
    if (hex !== undefined && timingSafeEqual(Buffer.from(hex, 'hex'), expected)) ok = true;
  }
  return ok;
}

function hmac(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest();
}
