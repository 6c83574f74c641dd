import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/http-events.ts';
import type { ListQuery, Store } from '../store/types.ts';

/** What the administrator's route groups (patients, logs) are given by admin/routes.ts. */
export interface AdminRouteDeps {
  readonly store: Store;
  /** Who is asking, as the audit log names them. */
  readonly actorOf: (req: FastifyRequest) => Actor;
  readonly listQuery: (q: Record<string, string | undefined>) => ListQuery;
}
