/**
 * Readers of the portal's outside input: a message body, the message list's query, and the reasons given
 * with erasure requests and decisions. Each refusal is a 400 naming the field (a JSON pointer in bodies, the
 * parameter name in query strings).
 */
import { bodyObject, listQuery } from '../http/body.ts';
import { badRequest } from '../http/problem.ts';
import { ERASURE_STATUSES, type ErasureStatus } from '../store/erasure-requests.ts';
import { decodeCursor, isIsoInstant, isUuid } from '../store/sql.ts';

export const MAX_MESSAGE_CHARS = 4000;
export const DEFAULT_MESSAGE_PAGE = 50;
export const MAX_MESSAGE_PAGE = 100;
const MAX_ERASURE_REASON = 1000;
const MAX_DECISION_REASON = 500;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 controls and DEL, except tab, line feed and carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Characters as people count them (code points), not UTF-16 units. */
export const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** The text of a message: `{body}` trimmed, 1..4000 characters, valid Unicode, no control characters. */
export function parseMessageBody(raw: unknown): string {
  const v = bodyObject(raw).body;
  if (typeof v !== 'string') throw badRequest('body is required and must be a string', '/body');
  const text = v.trim();
  if (text.length === 0) throw badRequest('body must not be empty', '/body');
  if (LONE_SURROGATE.test(text)) throw badRequest('body must be valid Unicode text', '/body');
  if (CONTROL.test(text))
    throw badRequest('body must not hold control characters other than tabs and line breaks', '/body');
  if (charCount(text) > MAX_MESSAGE_CHARS)
    throw badRequest(`body must be at most ${MAX_MESSAGE_CHARS} characters`, '/body');
  return text;
}

export interface MessageListQuery {
  readonly before?: { readonly at: string; readonly id?: string };
  readonly limit: number;
}

/**
 * `before`: an RFC 3339 instant with offset (messages sent strictly earlier), or the `next` of a previous
 * page (exact position, so messages sent in the same millisecond are not skipped). `limit`: 1..100, 50.
 */
export function parseMessageQuery(raw: unknown): MessageListQuery {
  const q = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const limitRaw = q.limit;
  let limit = DEFAULT_MESSAGE_PAGE;
  if (limitRaw !== undefined) {
    if (typeof limitRaw !== 'string' || !/^[0-9]{1,4}$/.test(limitRaw))
      throw badRequest(`limit must be a whole number 1..${MAX_MESSAGE_PAGE}`, '/limit');
    limit = Number(limitRaw);
    if (limit < 1 || limit > MAX_MESSAGE_PAGE)
      throw badRequest(`limit must be a whole number 1..${MAX_MESSAGE_PAGE}`, '/limit');
  }
  const before = q.before;
  if (before === undefined) return { limit };
  if (typeof before !== 'string' || before.length === 0 || before.length > 512)
    throw badRequest('before must be an instant or the next of a previous page', '/before');
  if (isIsoInstant(before)) return { limit, before: { at: new Date(Date.parse(before)).toISOString() } };
  try {
    const c = decodeCursor(before);
    if (isUuid(c.id)) return { limit, before: { at: new Date(Date.parse(c.at)).toISOString(), id: c.id } };
  } catch {
    // Neither form: refused below.
  }
  throw badRequest(
    'before must be an RFC 3339 instant with offset or the next of a previous page',
    '/before',
  );
}

/** The optional reason of an erasure request: trimmed, at most 1000 characters; blank is none. */
export function parseErasureReason(raw: unknown): string | undefined {
  const b = raw === undefined || raw === null || raw === '' ? {} : bodyObject(raw);
  const v = b.reason;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest('reason must be a string', '/reason');
  const text = v.trim();
  if (text.length === 0) return undefined;
  if (charCount(text) > MAX_ERASURE_REASON || LONE_SURROGATE.test(text) || CONTROL.test(text))
    throw badRequest(`reason must be text of at most ${MAX_ERASURE_REASON} characters`, '/reason');
  return text;
}

/** The administrator's reason for completing or rejecting: required, 1..500 characters. */
export function parseDecisionReason(raw: unknown): string {
  const v = bodyObject(raw ?? {}).reason;
  if (typeof v !== 'string' || v.trim().length === 0)
    throw badRequest('reason is required and must be a string', '/reason');
  const text = v.trim();
  if (charCount(text) > MAX_DECISION_REASON || LONE_SURROGATE.test(text) || CONTROL.test(text))
    throw badRequest(`reason must be text of at most ${MAX_DECISION_REASON} characters`, '/reason');
  return text;
}

/** `status`, `limit`, `cursor` of the administrator's list of erasure requests. */
export function parseErasureListQuery(raw: unknown): {
  status?: ErasureStatus;
  limit?: number;
  cursor?: string;
} {
  const q = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, string | undefined>;
  const status = q.status;
  if (status !== undefined && !(ERASURE_STATUSES as readonly string[]).includes(status))
    throw badRequest(`status must be one of ${ERASURE_STATUSES.join(', ')}`, '/status');
  return { ...listQuery(q), ...(status ? { status: status as ErasureStatus } : {}) };
}
