import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerChallenge, HttpProblem } from '../http/problem.ts';
import { StoreError } from '../store/types.ts';
import { EntryError } from './observation-entry.ts';

/** Shared pieces of FHIR responses: the media type, OperationOutcome errors, searchset Bundles. */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** An OperationOutcome naming, where there is one, the parameter or element at fault. */
export function outcome(
  reply: FastifyReply,
  status: number,
  code: string,
  diagnostics: string,
  expression?: string,
) {
  if (status === 401) bearerChallenge(reply);
  return reply
    .code(status)
    .type(FHIR_JSON)
    .send({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
    });
}

export function withParam(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/** A searchset Bundle of one page, with a next link carrying the store's cursor as `_cursor`. */
export function searchset(
  req: FastifyRequest,
  resourceType: string,
  items: readonly object[],
  cursor: string | undefined,
) {
  const self = `${req.protocol}://${req.host}${req.url}`;
  const next = cursor ? withParam(self, '_cursor', cursor) : undefined;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: self }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: items.map((resource): { fullUrl: string; resource: object; search: { mode: string } } => ({
      fullUrl: `${resourceType}/${String((resource as { id?: unknown }).id)}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

/** `_count`: 1..1000, default 50; null when invalid. */
export function searchCount(raw: string | undefined): number | null {
  const count = raw === undefined ? 50 : Number(raw);
  return Number.isInteger(count) && count >= 1 && count <= 1000 ? count : null;
}

const ISSUE_CODE: Record<number, string> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  412: 'conflict',
  415: 'not-supported',
  422: 'invalid',
};

/** Inside a FHIR plugin: bodies sent as application/fhir+json are parsed like JSON. */
export function acceptFhirJson(fhir: FastifyInstance): void {
  fhir.addContentTypeParser(
    'application/fhir+json',
    { parseAs: 'string' },
    fhir.getDefaultJsonParser('error', 'error'),
  );
}

/**
 * Inside a FHIR plugin: refusals (401, 403 from the access guard; 400 from input checks) are answered as
 * OperationOutcome, naming the element at fault where there is one, instead of problem details.
 */
export function answerWithOperationOutcome(fhir: FastifyInstance): void {
  fhir.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpProblem) {
      const p = err.problem;
      return outcome(reply, p.status, ISSUE_CODE[p.status] ?? 'processing', p.detail ?? p.title, p.field);
    }
    if (err instanceof StoreError) {
      const status = err.code === 'not-found' ? 404 : err.code === 'conflict' ? 409 : 400;
      return outcome(reply, status, ISSUE_CODE[status] as string, err.message, err.field);
    }
    if (err instanceof EntryError) return outcome(reply, 422, 'invalid', err.message, err.expression);
    const status = (err as { statusCode?: number }).statusCode;
    // Fastify's own refusals (a body that is not JSON, one too large, an unknown media type).
    if (status !== undefined && status >= 400 && status < 500)
      return outcome(reply, status, ISSUE_CODE[status] ?? 'invalid', (err as Error).message);
    req.log.error({ err }, 'FHIR request failed');
    return outcome(reply, 500, 'exception', 'the request could not be completed');
  });
}
