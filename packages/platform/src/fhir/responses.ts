import type { FastifyReply, FastifyRequest } from 'fastify';

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
  items: readonly { id?: string }[],
  cursor: string | undefined,
) {
  const self = `${req.protocol}://${req.host}${req.url}`;
  const next = cursor ? withParam(self, '_cursor', cursor) : undefined;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: self }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: items.map((resource) => ({
      fullUrl: `${resourceType}/${resource.id}`,
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
