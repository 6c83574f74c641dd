// Locations of test data: the package fixtures (always present) and the optional full shared data set.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** packages/signal/fixtures */
export const FIXTURES = resolve(here, '../fixtures');

/** The shared data directory (env OPENIOMT_SHARED_DATA, default ../shared/data beside the repo), if present. */
export function sharedDataDir(): string | undefined {
  const dir = process.env.OPENIOMT_SHARED_DATA ?? resolve(here, '../../../../shared/data');
  return existsSync(join(dir, 'mitdb', 'RECORDS')) ? dir : undefined;
}
