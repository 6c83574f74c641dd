/**
 * Device quarantine (admin/service.ts, ingest/intrusion.ts): while quarantined_at is set, every reading of
 * the device is refused (device-quarantined) and dead-lettered, though its keys stay valid; a release
 * clears the three columns. Who quarantined and released when stays in the security events and audit log.
 */
export const SCHEMA_011 = `
ALTER TABLE devices ADD COLUMN quarantined_at timestamptz(3);
ALTER TABLE devices ADD COLUMN quarantine_reason text;
-- A user id, or 'intrusion-detection' when the detector did it.
ALTER TABLE devices ADD COLUMN quarantined_by text;
CREATE INDEX devices_quarantined ON devices (created_at, id) WHERE quarantined_at IS NOT NULL;
`;
