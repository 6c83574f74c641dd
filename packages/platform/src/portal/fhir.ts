/**
 * FHIR R4 forms of what only the portal exports: the patient's consent (Consent) and their secure messages
 * (Communication). Observations, Provenance, Flags and alarm Communications come from core's mappings.
 */
import { nameBasedUuid, patientReference } from '@openiomt/core';
import type { StoredConsent } from '../store/access.ts';
import type { MessageRole, StoredMessage } from '../store/messages.ts';

/** Accounts are named by their user id in this system (they are not FHIR resources of this server). */
export const USER_SYSTEM = 'urn:openiomt:user';
export const DATA_CATEGORY_SYSTEM = 'https://openiomt.org/fhir/CodeSystem/data-category';
export const COMMUNICATION_CATEGORY_SYSTEM = 'https://openiomt.org/fhir/CodeSystem/communication-category';

/**
 * The consent as FHIR: permit by default, a `deny` provision per restriction (its data categories as codes,
 * its recipients as actors; no actor means every clinician, nurse and caregiver), and research use as a
 * permit or deny provision for the purpose HRESCH.
 */
export function consentResource(c: StoredConsent): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id: nameBasedUuid(`consent:${c.patientId}`),
    meta: { versionId: String(c.version), lastUpdated: c.updatedAt },
    status: 'active',
    scope: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: 'patient-privacy',
          display: 'Privacy Consent',
        },
      ],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: patientReference(c.patientId) },
    dateTime: c.updatedAt,
    policyRule: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' },
      ],
    },
    provision: {
      type: 'permit',
      provision: [
        ...c.restrictions.map((r) => ({
          type: 'deny',
          ...(r.recipients
            ? {
                actor: r.recipients.map((userId) => ({
                  role: {
                    coding: [
                      {
                        system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                        code: 'IRCP',
                        display: 'information recipient',
                      },
                    ],
                  },
                  reference: { identifier: { system: USER_SYSTEM, value: userId } },
                })),
              }
            : {}),
          code: r.categories.map((category) => ({
            coding: [{ system: DATA_CATEGORY_SYSTEM, code: category }],
          })),
        })),
        {
          type: c.researchUse ? 'permit' : 'deny',
          purpose: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
              code: 'HRESCH',
              display: 'healthcare research',
            },
          ],
        },
      ],
    },
  };
}

const SENDER_TYPE: Record<Exclude<MessageRole, 'patient'>, string> = {
  caregiver: 'RelatedPerson',
  clinician: 'Practitioner',
  nurse: 'Practitioner',
};

/** A secure message as a completed Communication about the patient; `received` is when it was read. */
export function messageCommunication(m: StoredMessage, senderName?: string): Record<string, unknown> {
  return {
    resourceType: 'Communication',
    id: m.id,
    status: 'completed',
    category: [
      {
        coding: [
          { system: COMMUNICATION_CATEGORY_SYSTEM, code: 'secure-message', display: 'Secure message' },
        ],
      },
    ],
    subject: { reference: patientReference(m.patientId) },
    sent: m.sentAt,
    ...(m.readAt ? { received: m.readAt } : {}),
    sender:
      m.senderRole === 'patient'
        ? { reference: patientReference(m.patientId) }
        : {
            type: SENDER_TYPE[m.senderRole],
            identifier: { system: USER_SYSTEM, value: m.senderUserId },
            ...(senderName ? { display: senderName } : {}),
          },
    payload: [{ contentString: m.body }],
  };
}
