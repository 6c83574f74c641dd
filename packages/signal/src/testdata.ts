// Locations of test data: the package fixtures (always present) and the optional full shared data set.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** packages/signal/fixtures */
export const FIXTURES = resolve(here, '../fixtures');

/** Where the shared data set is looked for: env OPENIOMT_SHARED_DATA, else ../shared/data beside the repository. */
export function sharedDataPath(): string {
  return process.env.OPENIOMT_SHARED_DATA || resolve(here, '../../../../shared/data');
}

/** The shared data directory, if present. */
export function sharedDataDir(): string | undefined {
  const dir = sharedDataPath();
  return existsSync(join(dir, 'mitdb', 'RECORDS')) ? dir : undefined;
}
