/**
 * The FHIR R4 Subscription resource from outside input, and back. Every refusal is a SubscriptionError
 * naming the element at fault (Subscription.criteria, Subscription.channel.endpoint, ...), answered as a
 * 422 OperationOutcome with that expression.
 */
import { parseSubscriptionCriteria, type SubscriptionCriteria } from '@openiomt/core';
import { checkWebhookUrl } from '../notify/webhook-routes.ts';
import type { PayloadContent, StoredSubscription, SubscriptionStatus } from './subscription-store.ts';

export class SubscriptionError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

export const PAYLOAD_CONTENT_URL =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';
export const SECRET_URL = 'https://openiomt.org/fhir/StructureDefinition/subscription-signing-secret';
const PAYLOADS = ['application/fhir+json', 'application/json'];
const CONTENTS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];
/** Headers the platform sets itself (or that would change how the request is read) are not the subscriber's. */
const RESERVED = /^(content-type|content-length|host|user-agent|transfer-encoding|connection|openiomt-.*)$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

export interface SubscriptionRequest {
  readonly status: 'requested' | 'active' | 'off';
  readonly criteria: string;
  readonly parsed: SubscriptionCriteria;
  readonly reason: string;
  readonly end?: string;
  readonly channelType: 'rest-hook' | 'websocket';
  readonly endpoint?: string;
  readonly headers: string[];
  readonly payload?: string;
  readonly content: PayloadContent;
}

const fail = (message: string, expression: string): never => {
  throw new SubscriptionError(message, expression);
};
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function readSubscription(body: unknown): SubscriptionRequest {
  if (!isObject(body) || body.resourceType !== 'Subscription')
    fail('the body must be a Subscription resource', 'Subscription');
  const b = body as Record<string, unknown>;
  const status = b.status ?? 'requested';
  if (status !== 'requested' && status !== 'active' && status !== 'off')
    fail('status must be requested (or active, or off): error is set by the server', 'Subscription.status');
  const parsed = parseSubscriptionCriteria(b.criteria);
  if (!parsed.ok) fail(`criteria: ${parsed.diagnostics}`, 'Subscription.criteria');
  const reason = b.reason ?? 'not given';
  if (typeof reason !== 'string' || reason.length > 500)
    fail('reason must be text of at most 500 characters', 'Subscription.reason');
  let end: string | undefined;
  if (b.end !== undefined) {
    if (
      typeof b.end !== 'string' ||
      !Number.isFinite(Date.parse(b.end)) ||
      !/T.*(Z|[+-]\d\d:\d\d)$/.test(b.end)
    )
      fail('end must be an instant with a time zone', 'Subscription.end');
    end = new Date(Date.parse(b.end as string)).toISOString();
  }
  if (!isObject(b.channel)) fail('channel is required', 'Subscription.channel');
  const ch = b.channel as Record<string, unknown>;
  const channelType = ch.type;
  if (channelType !== 'rest-hook' && channelType !== 'websocket')
    fail('channel.type must be rest-hook or websocket', 'Subscription.channel.type');
  let endpoint: string | undefined;
  if (channelType === 'rest-hook') {
    if (typeof ch.endpoint !== 'string')
      fail('a rest-hook needs an endpoint', 'Subscription.channel.endpoint');
    try {
      endpoint = checkWebhookUrl(ch.endpoint as string);
    } catch (e) {
      fail(
        `endpoint: ${(e as { problem?: { detail?: string } }).problem?.detail ?? 'invalid URL'}`,
        'Subscription.channel.endpoint',
      );
    }
  } else if (ch.endpoint !== undefined)
    fail('a websocket channel has no endpoint: bind at /fhir/R4/websocket', 'Subscription.channel.endpoint');
  const headers = readHeaders(ch.header, channelType as string);
  const payload = ch.payload;
  if (payload !== undefined && (typeof payload !== 'string' || !PAYLOADS.includes(payload)))
    fail(`channel.payload must be ${PAYLOADS.join(' or ')} (or absent)`, 'Subscription.channel.payload');
  const content = payloadContent(ch._payload, payload !== undefined);
  return {
    status: status as SubscriptionRequest['status'],
    criteria: b.criteria as string,
    parsed: (parsed as { criteria: SubscriptionCriteria }).criteria,
    reason: reason as string,
    ...(end ? { end } : {}),
    channelType: channelType as SubscriptionRequest['channelType'],
    ...(endpoint ? { endpoint } : {}),
    headers,
    ...(payload !== undefined ? { payload: payload as string } : {}),
    content,
  };
}

function readHeaders(raw: unknown, channelType: string): string[] {
  if (raw === undefined) return [];
  const at = 'Subscription.channel.header';
  if (channelType !== 'rest-hook') fail('headers are for rest-hook channels', at);
  if (!Array.isArray(raw) || raw.length > 10) fail('header must be a list of at most 10 "Name: value"', at);
  return (raw as unknown[]).map((h) => {
    if (typeof h !== 'string' || h.length > 2048 || /[\r\n]/.test(h))
      fail('each header is one "Name: value" line', at);
    const colon = (h as string).indexOf(':');
    const name = (h as string).slice(0, colon).trim();
    if (colon <= 0 || !HEADER_NAME.test(name)) fail('each header is one "Name: value" line', at);
    if (RESERVED.test(name)) fail(`header ${name} is set by the server`, at);
    return h as string;
  });
}

/** The Backport IG's payload-content extension on channel.payload; the default follows R4. */
function payloadContent(meta: unknown, hasPayload: boolean): PayloadContent {
  const ext = isObject(meta) && Array.isArray(meta.extension) ? meta.extension : [];
  const found = ext.find((e: unknown) => isObject(e) && e.url === PAYLOAD_CONTENT_URL) as
    | { valueCode?: unknown }
    | undefined;
  if (found === undefined) return hasPayload ? 'full-resource' : 'empty';
  if (!CONTENTS.includes(found.valueCode as PayloadContent))
    fail(`payload content must be ${CONTENTS.join(', ')}`, 'Subscription.channel.payload');
  if (!hasPayload && found.valueCode !== 'empty')
    fail('id-only and full-resource need channel.payload', 'Subscription.channel.payload');
  return found.valueCode as PayloadContent;
}

/** The stored subscription as FHIR; the signing secret only when just created. */
export function subscriptionResource(s: StoredSubscription, secret?: string): Record<string, unknown> {
  const status: SubscriptionStatus = s.status;
  return {
    resourceType: 'Subscription',
    id: s.id,
    meta: { lastUpdated: s.updatedAt },
    ...(secret ? { extension: [{ url: SECRET_URL, valueString: secret }] } : {}),
    status,
    ...(s.end ? { end: s.end } : {}),
    reason: s.reason,
    criteria: s.criteria,
    ...(s.error ? { error: s.error } : {}),
    channel: {
      type: s.channelType,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(s.payload ? { payload: s.payload } : {}),
      ...(s.content !== (s.payload ? 'full-resource' : 'empty')
        ? { _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: s.content }] } }
        : {}),
      ...(s.headers.length > 0 ? { header: s.headers } : {}),
    },
  };
}
