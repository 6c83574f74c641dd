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

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ type: p.type ?? 'about:blank', ...p });
}
