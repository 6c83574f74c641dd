/**
 * The audit record of a change to a patient's alarm settings: who changed them, for which patient, and which
 * settings changed (a threshold named by vital and direction, or `spo2Scale2`). The limits themselves and the
 * Scale 2 choice are clinical facts about the patient and stay out of the audit log (docs/audit.md: ids and
 * counts only); the settings and who last changed them are readable with the patient's settings.
 */
import type { Subject, ThresholdRule } from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import type { AuditInput } from '../audit/audit-log.ts';
import { adminAccess } from '../audit/http-events.ts';

interface Settings {
  readonly thresholds: readonly ThresholdRule[];
  readonly spo2Scale2: boolean;
}

/** Each rule keyed by what it watches (`spo2:low`), its content as JSON to compare. */
function byKey(rules: readonly ThresholdRule[]): Map<string, string> {
  const out = new Map<string, string[]>();
  for (const r of rules) {
    const key = `${r.vital}:${r.direction}`;
    out.set(key, [...(out.get(key) ?? []), JSON.stringify(r, Object.keys(r).sort())]);
  }
  return new Map([...out].map(([k, v]) => [k, v.sort().join('\n')]));
}

/** What a save changed, by name only: thresholds added, removed and modified. */
export function settingsChange(before: Settings | undefined, after: Settings) {
  const old = byKey(before?.thresholds ?? []);
  const now = byKey(after.thresholds);
  const added = [...now.keys()].filter((k) => !old.has(k)).sort();
  const removed = [...old.keys()].filter((k) => !now.has(k)).sort();
  const modified = [...now.keys()].filter((k) => old.has(k) && old.get(k) !== now.get(k)).sort();
  if ((before?.spo2Scale2 ?? false) !== after.spo2Scale2) modified.push('spo2Scale2');
  return { thresholds: after.thresholds.length, added, removed, modified };
}

/** An `update` of the patient's AlarmSettings by the caller, with what changed. */
export function settingsChangedEvent(
  req: FastifyRequest,
  subject: Subject,
  patientId: string,
  before: Settings | undefined,
  after: Settings,
): AuditInput {
  return adminAccess(req, subject, {
    action: 'update',
    resourceType: 'AlarmSettings',
    resourceId: patientId,
    patientId,
    detail: settingsChange(before, after),
  });
}
