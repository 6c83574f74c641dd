import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSmartScope, scopeCovers, scopesGrant } from './smart-scopes.ts';

describe('SMART scopes', () => {
  it('parses v1 and v2 forms', () => {
    expect(parseSmartScope('patient/Observation.read')).toEqual({
      context: 'patient',
      resourceType: 'Observation',
      permissions: new Set(['r', 's']),
    });
    expect(parseSmartScope('system/*.*')?.permissions.size).toBe(5);
    expect(parseSmartScope('user/Flag.cud')?.permissions).toEqual(new Set(['c', 'u', 'd']));
    for (const bad of [
      '',
      'openid',
      'user/Flag.',
      'user/Flag.rc',
      'user/flag.read',
      'x/Flag.read',
      'user/Flag.read ',
    ])
      expect(parseSmartScope(bad)).toBeUndefined();
  });

  it('never throws on any text, and what it parses covers itself (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(
              fc.constantFrom('patient', 'user', 'system', 'x', ''),
              fc.constantFrom('*', 'Observation', 'obs', ''),
              fc.constantFrom('read', 'write', '*', 'rs', 'cruds', 'sr', '', 'r?x=1'),
            )
            .map(([c, r, p]) => `${c}/${r}.${p}`),
        ),
        (text) => {
          const s = parseSmartScope(text);
          if (s === undefined) return;
          expect(scopeCovers(s, s)).toBe(true);
          expect(s.permissions.size).toBeGreaterThan(0);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('checks actions against scopes of one context', () => {
    expect(scopesGrant(['user/*.read'], 'user', 'Observation', 'export')).toBe(true);
    expect(scopesGrant(['user/*.read'], 'patient', 'Observation', 'read')).toBe(false);
    expect(scopesGrant(['user/Observation.write'], 'user', 'Observation', 'read')).toBe(false);
  });
});
