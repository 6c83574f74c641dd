/**
 * Vital-sign trends for the live dashboard (live/trend-recorder.ts): one row per patient, code and minute,
 * holding count, sum, minimum and maximum of the values measured in that minute. Charts over hours or days
 * aggregate these rows in SQL instead of decoding every stored reading. Codes are catalogue vital codes,
 * the ones analysis derives from waveforms, and 'news2' (the total score).
 */
export const SCHEMA_009 = `
CREATE TABLE vital_trends (
  patient_id  text NOT NULL,
  code        text NOT NULL,
  -- Start of the minute, in the measurement's own time.
  bucket      timestamptz(3) NOT NULL,
  n           integer NOT NULL CHECK (n > 0),
  sum         double precision NOT NULL,
  min         double precision NOT NULL,
  max         double precision NOT NULL,
  PRIMARY KEY (patient_id, code, bucket)
);
`;
