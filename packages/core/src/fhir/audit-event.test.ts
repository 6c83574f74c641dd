import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditRecord } from '../audit/arbitrary.ts';
import type { AuditRecord } from '../audit/record.ts';
import { auditEventResource } from './audit-event.ts';
import { type FhirValidator, loadFhirValidator } from './fhir-schema.ts';

let fhir: FhirValidator;
beforeAll(() => {
  fhir = loadFhirValidator();
});

const read: AuditRecord = {
  id: '0b7e2f1c-1d2e-4f3a-9b8c-7d6e5f4a3b2c',
  at: '2026-01-02T03:04:05.678Z',
  actor: 'nurse-7',
  actorRole: 'nurse',
  action: 'read',
  resourceType: 'Observation',
  resourceId: 'obs-1',
  patientId: 'p-1',
  outcome: 'success',
  source: '10.0.0.8',
};

describe('audit records as FHIR AuditEvent (IHE BALP style)', () => {
  it('maps a read: rest/read, action R, outcome 0, the user requesting, client and server, resource and patient', () => {
    const e = auditEventResource(read);
    expect(fhir.errors(e)).toBeUndefined();
    expect(e.type.code).toBe('rest');
    expect(e.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
    expect(e.action).toBe('R');
    expect(e.outcome).toBe('0');
    expect(e.recorded).toBe(read.at);
    const [user, client, server] = e.agent;
    expect(user).toMatchObject({
      requestor: true,
      who: { identifier: { system: 'urn:openiomt:user', value: 'nurse-7' } },
      role: [{ text: 'nurse' }],
    });
    expect(client).toMatchObject({ requestor: false, network: { address: '10.0.0.8', type: '2' } });
    expect(server?.type?.coding?.[0]?.code).toBe('110152');
    expect(e.source.observer.display).toBe('OpenIoMT platform');
    expect(e.entity?.map((x) => x.what?.reference)).toEqual(['Observation/obs-1', 'Patient/p-1']);
    expect(e.entity?.map((x) => x.role?.code)).toEqual(['4', '1']);
  });

  it('maps searches, writes, refusals and break-glass with their BALP codes', () => {
    const search = auditEventResource({
      ...read,
      action: 'search',
      resourceId: undefined,
      detail: { query: 'patient=p-1&code=8867-4', count: 3 },
    } as AuditRecord);
    expect([search.subtype?.[0]?.code, search.action]).toEqual(['search-type', 'E']);
    expect(Buffer.from(search.entity?.[0]?.query ?? '', 'base64').toString()).toBe('patient=p-1&code=8867-4');
    expect(search.entity?.[0]?.detail).toEqual([{ type: 'count', valueString: '3' }]);
    const create = auditEventResource({ ...read, action: 'create' });
    expect([create.subtype?.[0]?.code, create.action]).toEqual(['create', 'C']);
    const denied = auditEventResource({
      ...read,
      action: 'denied',
      outcome: 'denied',
      reason: 'not in care team',
      detail: { interaction: 'read' },
    });
    expect([denied.subtype?.[0]?.code, denied.outcome, denied.outcomeDesc]).toEqual([
      'read',
      '4',
      'not in care team',
    ]);
    const error = auditEventResource({ ...read, outcome: 'error' });
    expect(error.outcome).toBe('8');
    const glass = auditEventResource({ ...read, action: 'break-glass', reason: 'cardiac arrest' });
    expect(glass.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('BTG');
    expect(glass.subtype?.[0]?.code).toBe('110127');
    const reading = auditEventResource({ ...read, resourceType: 'Reading', resourceId: 'ecg-1/42' });
    expect(reading.entity?.[0]?.what).toEqual({
      identifier: { system: 'urn:openiomt:reading', value: 'ecg-1/42' },
    });
    for (const r of [search, create, denied, error, glass, reading]) expect(fhir.errors(r)).toBeUndefined();
  });

  it('gives a valid R4 AuditEvent for any record', () => {
    fc.assert(
      fc.property(auditRecord, (r) => {
        const e = auditEventResource(r);
        expect(fhir.errors(e)).toBeUndefined();
        expect(e.id).toBe(r.id);
        if (r.patientId)
          expect(e.entity?.some((x) => x.what?.reference === `Patient/${r.patientId}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
