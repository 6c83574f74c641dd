/**
 * A stored reading's JWS is base64url text, which PostgreSQL's default TOAST compression (pglz) shrinks by
 * about 2 %: every reading paid a compression attempt for nothing. EXTERNAL keeps large values out of line
 * as before, uncompressed. Rows already stored stay as they are. Measured with bench/commit.bench.ts
 * (30,000 readings in batches of 200), three interleaved pairs: CPU per reading on PGlite 0.25–0.30 ms
 * against 0.30–0.34, in the PostgreSQL server 0.140–0.151 ms against 0.162–0.179.
 */
export const SCHEMA_018 = `
ALTER TABLE readings ALTER COLUMN jws SET STORAGE EXTERNAL;
`;
