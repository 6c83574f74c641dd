import { fhirId } from './ids.ts';
import { DEVICE_IDENTIFIER_SYSTEM, PATIENT_IDENTIFIER_SYSTEM } from './profiles.ts';
import type { Device, Patient } from './types.ts';

export interface DeviceInfo {
  readonly id: string;
  readonly kind: string;
  readonly model?: string;
  readonly manufacturer?: string;
  readonly status: 'registered' | 'active' | 'revoked';
  readonly patientId?: string;
  readonly firmware?: string;
}

const DEVICE_STATUS_REASON = 'http://terminology.hl7.org/CodeSystem/device-status-reason';

/**
 * The FHIR Device for a registered device. A revoked device is 'inactive' (its past readings stay valid);
 * a registered one not yet enrolled is 'active' with no patient. The platform id is kept as identifier
 * because it may hold characters a FHIR id cannot ('_').
 */
export function deviceResource(d: DeviceInfo): Device {
  return {
    resourceType: 'Device',
    id: fhirId('Device', d.id),
    identifier: [{ system: DEVICE_IDENTIFIER_SYSTEM, value: d.id }],
    status: d.status === 'revoked' ? 'inactive' : 'active',
    ...(d.status === 'revoked'
      ? {
          statusReason: [
            {
              coding: [{ system: DEVICE_STATUS_REASON, code: 'offline', display: 'Offline' }],
              text: 'revoked',
            },
          ],
        }
      : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    deviceName: [{ name: d.model ?? d.kind, type: d.model ? 'model-name' : 'user-friendly-name' }],
    ...(d.model ? { modelNumber: d.model } : {}),
    type: { text: d.kind },
    ...(d.firmware ? { version: [{ type: { text: 'firmware' }, value: d.firmware }] } : {}),
    ...(d.patientId ? { patient: { reference: `Patient/${fhirId('Patient', d.patientId)}` } } : {}),
  };
}

export interface PatientInfo {
  readonly id: string;
  /** An external identifier such as a medical record number. */
  readonly identifier?: string;
  readonly displayName?: string;
  /** YYYY-MM-DD. */
  readonly birthDate?: string;
  readonly phone?: string;
  readonly email?: string;
  readonly address?: string;
}

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/**
 * A FHIR Patient from what the caller could decrypt (identifying data is encrypted at rest by the platform);
 * with only the pseudonymous id it carries no name, no birth date and no contact details.
 */
export function patientResource(p: PatientInfo): Patient {
  const telecom = [
    ...(p.phone ? [{ system: 'phone' as const, value: p.phone }] : []),
    ...(p.email ? [{ system: 'email' as const, value: p.email }] : []),
  ];
  return {
    resourceType: 'Patient',
    id: fhirId('Patient', p.id),
    identifier: [
      { system: PATIENT_IDENTIFIER_SYSTEM, value: p.id },
      ...(p.identifier
        ? [
            {
              type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }] },
              value: p.identifier,
            },
          ]
        : []),
    ],
    active: true,
    ...(p.displayName ? { name: [{ text: p.displayName }] } : {}),
    ...(telecom.length > 0 ? { telecom } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.address ? { address: [{ text: p.address }] } : {}),
  };
}
