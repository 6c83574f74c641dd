import type { KeyObject } from 'node:crypto';
import { decodeReading } from '../message/decode.ts';
import { parseCompactJws, verifyJws } from '../message/jws.ts';
import type { ReadingMessage } from '../message/reading.ts';
import { deviceReference, observationIdScheme, provenanceId } from './ids.ts';
import { mapObservations } from './observation.ts';
import { JWS_KID_EXTENSION, VERIFICATION_SIGNATURE } from './profiles.ts';
import type { Observation, Provenance, Reference } from './types.ts';

const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

export interface ProvenanceInput {
  readonly message: ReadingMessage;
  readonly observationIds: readonly string[];
  readonly kid: string;
  /** The compact JWS exactly as received. */
  readonly jws: string;
  readonly receivedAt: string;
}

/**
 * One Provenance per reading: the device authored its Observations, and signature.data carries the
 * compact JWS it signed, so anyone holding the device key can re-verify them later (verifyProvenance).
 */
export function provenanceResource(input: ProvenanceInput): Provenance {
  const { message, kid, jws, receivedAt } = input;
  const device = { reference: deviceReference(message.device) };
  // A status-only message makes no Observation; it then vouches for the device's own state.
  const target: Reference[] =
    input.observationIds.length > 0
      ? input.observationIds.map((id) => ({ reference: `Observation/${id}` }))
      : [{ ...device }];
  return {
    resourceType: 'Provenance',
    id: provenanceId(message.device, message.seq),
    target,
    occurredDateTime: message.ts,
    recorded: receivedAt,
    agent: [
      { type: { coding: [{ system: PARTICIPANT_TYPE, code: 'author', display: 'Author' }] }, who: device },
    ],
    signature: [
      {
        extension: [{ url: JWS_KID_EXTENSION, valueString: kid }],
        type: [{ ...VERIFICATION_SIGNATURE }],
        when: receivedAt,
        who: { ...device },
        sigFormat: 'application/jose',
        data: Buffer.from(jws, 'utf8').toString('base64'),
      },
    ],
  };
}

export type ProvenanceCheck =
  | { readonly ok: true; readonly message: ReadingMessage }
  | { readonly ok: false; readonly problem: string };

/** The compact JWS a Provenance carries, or undefined when it has none. */
export function signedJwsOf(provenance: Provenance): string | undefined {
  const data = provenance.signature?.find((s) => s.sigFormat === 'application/jose')?.data;
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

/**
 * Re-verifies a reading from its stored resources alone: decodes signature.data, checks the JWS with the
 * device's public key, maps the signed payload again and requires every given Observation to equal (as
 * canonical JSON) the one the signed payload yields. Any edit to a stored Observation fails here.
 */
export function verifyProvenance(
  provenance: Provenance,
  observations: readonly Observation[],
  key: KeyObject,
): ProvenanceCheck {
  const compact = signedJwsOf(provenance);
  if (compact === undefined) return { ok: false, problem: 'Provenance has no application/jose signature' };
  const jws = parseCompactJws(compact);
  if (!jws.ok) return { ok: false, problem: `signature.data: ${jws.rejection.detail}` };
  if (!verifyJws(jws.value, key)) return { ok: false, problem: 'signature does not verify with this key' };
  const decoded = decodeReading(jws.value.payload);
  if (!decoded.ok) return { ok: false, problem: `signed payload: ${decoded.rejection.detail}` };
  const message = decoded.value;
  if (provenance.id !== provenanceId(message.device, message.seq))
    return { ok: false, problem: 'Provenance id does not belong to the signed reading' };
  for (const obs of observations) {
    const patient = obs.subject?.reference?.replace(/^Patient\//, '') ?? '';
    const ids = observationIdScheme(obs.id ?? '');
    const expected = mapObservations(message, patient, ids).find((m) => m.id === obs.id);
    if (!expected) return { ok: false, problem: `Observation ${obs.id} is not part of the signed reading` };
    if (!provenance.target.some((t) => t.reference === `Observation/${obs.id}`))
      return { ok: false, problem: `Observation ${obs.id} is not a target of this Provenance` };
    if (canonicalJson(expected.resource) !== canonicalJson(obs))
      return { ok: false, problem: `Observation ${obs.id} differs from the signed payload` };
  }
  return { ok: true, message };
}

/** JSON with object keys sorted, so a round trip through a store that reorders keys (jsonb) compares equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
