import type { FastifyReply } from 'fastify';

/**
 * RFC 9457 problem details. Outward messages stay generic where detail would help an attacker; for input
 * errors they name the field at fault (JSON pointer) so a client can fix its request.
 */
export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** JSON pointer to the field at fault. */
  readonly field?: string;
  readonly type?: string;
}

export class HttpProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export const badRequest = (detail: string, field?: string): HttpProblem =>
  new HttpProblem({ status: 400, title: 'Bad request', detail, ...(field !== undefined ? { field } : {}) });
export const notFound = (detail: string): HttpProblem =>
  new HttpProblem({ status: 404, title: 'Not found', detail });
export const conflict = (detail: string, field?: string): HttpProblem =>
  new HttpProblem({ status: 409, title: 'Conflict', detail, ...(field !== undefined ? { field } : {}) });
export const unauthorized = (): HttpProblem =>
  new HttpProblem({ status: 401, title: 'Unauthorized', detail: 'valid credentials are required' });

/** The titles of the statuses the platform answers with, for refusals raised by Fastify or its plugins. */
const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length required',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
};

export const titleOf = (status: number): string => TITLES[status] ?? 'Bad request';

/**
 * The challenge a 401 carries (RFC 9110 §11.6.1, RFC 6750 §3): the JSON and FHIR APIs take bearer tokens
 * (access tokens, the administrator token); a bearer token that was sent and refused is `invalid_token`.
 */
export function bearerChallenge(reply: FastifyReply): FastifyReply {
  const sent = /^bearer\s/i.test(reply.request.headers.authorization ?? '');
  return reply.header('www-authenticate', `Bearer realm="openiomt"${sent ? ', error="invalid_token"' : ''}`);
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  if (p.status === 401) bearerChallenge(reply);
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ type: p.type ?? 'about:blank', ...p });
}
