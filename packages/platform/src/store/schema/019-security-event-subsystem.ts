/**
 * A security event's source was a network address for events a request or connection caused, but the name of
 * a subsystem (enrolment, rotation, intrusion-detection) for the others: one column, two meanings. The names
 * move to their own column, so source only ever holds an address. Every intrusion-detected event was raised by
 * intrusion detection, also those whose source is the address it blocked.
 */
export const SCHEMA_019 = `
ALTER TABLE security_events ADD COLUMN subsystem text;
UPDATE security_events SET subsystem = source, source = NULL
 WHERE source IN ('enrolment', 'rotation', 'intrusion-detection');
UPDATE security_events SET subsystem = 'intrusion-detection'
 WHERE kind = 'intrusion-detected' AND subsystem IS NULL;
`;
