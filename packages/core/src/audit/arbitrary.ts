/**
 * Test support (not exported from the package): fast-check arbitraries of audit records.
 */
import fc from 'fast-check';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditRecord, type JsonValue } from './record.ts';

const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const text = fc.string({ maxLength: 40 }).filter((s) => !s.includes('\u0000'));

export const jsonDetail: fc.Arbitrary<{ [key: string]: JsonValue }> = fc.dictionary(
  text,
  fc.oneof(
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(text, fc.integer()), { maxLength: 3 }),
  ),
  { maxKeys: 4 },
);

export const auditRecord: fc.Arbitrary<AuditRecord> = fc
  .record(
    {
      id: fc.uuid(),
      at: fc
        .integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') })
        .map((ms) => new Date(ms).toISOString()),
      actor: fc.oneof(token, fc.constant('system')),
      actorRole: fc.constantFrom('clinician', 'nurse', 'administrator', 'device', 'patient'),
      action: fc.constantFrom(...AUDIT_ACTIONS),
      resourceType: fc.constantFrom('Observation', 'Patient', 'Flag', 'Reading', 'AuditEvent'),
      resourceId: token,
      patientId: token,
      outcome: fc.constantFrom(...AUDIT_OUTCOMES),
      reason: text,
      source: fc.oneof(fc.ipV4(), fc.ipV6(), token),
      detail: jsonDetail,
    },
    { requiredKeys: ['id', 'at', 'actor', 'action', 'outcome'] },
  )
  .map((r) => r as AuditRecord);
