/**
 * Observations a person entered are rows of derived_observations with no device (device_id ''). Finding a
 * patient's newest entered value of a code (what NEWS2 remembers after a restart, latest-vitals.ts) on the
 * shared (patient_id, code, effective) index meant stepping over every derived one of that code first:
 * thousands per patient over 12 hours of waveform analysis. This small index holds only the entered ones.
 */
export const SCHEMA_017 = `
CREATE INDEX derived_observations_entered ON derived_observations (patient_id, code, effective)
  WHERE device_id = '';
`;
