/**
 * SMART on FHIR scopes (v1 `patient/Observation.read`, and v2 `user/Observation.rs`): parsed into a context,
 * a resource type and a set of permissions, and checked against an action of the access policy. Pure.
 * A v2 scope with a query (`?category=...`) is not understood, so it grants nothing.
 */
import type { Action } from './policy.ts';

export const SCOPE_CONTEXTS = ['patient', 'user', 'system'] as const;
export type ScopeContext = (typeof SCOPE_CONTEXTS)[number];

/** SMART v2 permissions: create, read, update, delete, search (always in this order in a scope). */
export type ScopePermission = 'c' | 'r' | 'u' | 'd' | 's';

export interface SmartScope {
  readonly context: ScopeContext;
  /** A FHIR resource type, or `*` for all. */
  readonly resourceType: string;
  readonly permissions: ReadonlySet<ScopePermission>;
}

const V1: Readonly<Record<string, readonly ScopePermission[]>> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.(read|write|\*|c?r?u?d?s?)$/;

/** The scope, or undefined when it is not a SMART resource scope this platform understands. */
export function parseSmartScope(scope: string): SmartScope | undefined {
  const m = SCOPE.exec(scope);
  if (m === null || m[3] === '') return undefined;
  const perms = V1[m[3] as string] ?? ([...(m[3] as string)] as ScopePermission[]);
  return {
    context: m[1] as ScopeContext,
    resourceType: m[2] as string,
    permissions: new Set(perms),
  };
}

/** What an action needs: reads read, searches search, an export does both; writes by kind. */
export function permissionsFor(action: Action): readonly ScopePermission[] {
  switch (action) {
    case 'read':
      return ['r'];
    case 'search':
      return ['s'];
    case 'export':
      return ['r', 's'];
    case 'create':
      return ['c'];
    case 'update':
    case 'act':
      return ['u'];
    case 'delete':
      return ['d'];
  }
}

/** True when one scope of this context covers every permission the action needs on the resource type. */
export function scopesGrant(
  scopes: readonly string[],
  context: ScopeContext,
  resourceType: string,
  action: Action,
): boolean {
  const needed = permissionsFor(action);
  return scopes.some((raw) => {
    const s = parseSmartScope(raw);
    return (
      s !== undefined &&
      s.context === context &&
      (s.resourceType === '*' || s.resourceType === resourceType) &&
      needed.every((p) => s.permissions.has(p))
    );
  });
}

/** True when `granted` covers everything `wanted` asks (same context, resource within, permissions within). */
export function scopeCovers(granted: SmartScope, wanted: SmartScope): boolean {
  return (
    granted.context === wanted.context &&
    (granted.resourceType === '*' || granted.resourceType === wanted.resourceType) &&
    [...wanted.permissions].every((p) => granted.permissions.has(p))
  );
}
