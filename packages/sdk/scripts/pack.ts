/**
 * `npm run sdk:pack`: the device SDK as a package a device or gateway project installs with npm and runs
 * with plain `node`, outside this repository. Inside the workspace the SDK is TypeScript source; this
 * builds, in packages/sdk/dist/:
 *   index.js   one ES module (esbuild): the SDK and the parts of @openiomt/core it uses, for Node.js 20+
 *   types/     declarations (tsc), the SDK's and core's, with import paths a consumer's TypeScript resolves
 *   package.json, README.md
 * and then `npm pack`s it into a tarball (default: the current folder), whose path it prints.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { build } from 'esbuild';

const SDK = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(SDK, 'dist');
const REPO = resolve(SDK, '../..');

/** Runtime dependencies a consumer installs; everything else is bundled. */
const EXTERNAL = ['mqtt'];

export interface PackResult {
  readonly tarball: string;
  readonly bundleBytes: number;
}

export async function packDeviceSdk(outDir: string): Promise<PackResult> {
  await rm(DIST, { recursive: true, force: true });
  await bundle();
  await declarations();
  const manifest = JSON.parse(await readFile(join(SDK, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    description: string;
    dependencies: Record<string, string>;
  };
  const license = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { license: string })
    .license;
  await writeFile(
    join(DIST, 'package.json'),
    `${JSON.stringify(publishedManifest(manifest, license), null, 2)}\n`,
  );
  await cp(join(REPO, 'docs/device-sdk.md'), join(DIST, 'README.md'));
  await mkdir(outDir, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', resolve(outDir)], {
    cwd: DIST,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1)!;
  const bundleBytes = (await readFile(join(DIST, 'index.js'))).length;
  return { tarball: join(resolve(outDir), name), bundleBytes };
}

function publishedManifest(
  m: { name: string; version: string; description: string; dependencies: Record<string, string> },
  license: string,
) {
  const dependencies = Object.fromEntries(EXTERNAL.map((d) => [d, m.dependencies[d]!]));
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    license,
    type: 'module',
    engines: { node: '>=20' },
    exports: { '.': { types: './types/sdk/src/index.d.ts', default: './index.js' } },
    files: ['index.js', 'types', 'README.md'],
    dependencies,
  };
}

async function bundle(): Promise<void> {
  const result = await build({
    entryPoints: [join(SDK, 'src/index.ts')],
    outfile: join(DIST, 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'silent',
    metafile: true,
  });
  // Core is pure, but a module it does not need here (FHIR units) would drag in a large library.
  const inputs = Object.keys(result.metafile.inputs);
  const stray = inputs.filter((i) => i.includes('node_modules/') && !i.includes('/packages/'));
  if (stray.length > 0) throw new Error(`the SDK bundle took in third-party code: ${stray.join(', ')}`);
}

/** tsc's declarations, with `.ts` import paths made `.js` and `@openiomt/core` a path inside the package. */
async function declarations(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(SDK, 'tsconfig.pack.json')], { stdio: 'inherit' });
  const types = join(DIST, 'types');
  const coreIndex = join(types, 'core/src/index.js');
  for (const file of await declarationFiles(types)) {
    const text = await readFile(file, 'utf8');
    const toCore = relative(join(file, '..'), coreIndex);
    const rewritten = text
      .replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1')
      .replace(/(['"])@openiomt\/core\1/g, `$1${toCore.startsWith('.') ? toCore : `./${toCore}`}$1`);
    if (rewritten !== text) await writeFile(file, rewritten);
  }
}

async function declarationFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.d.ts')).map((e) => join(e.parentPath, e.name));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const program = new Command('sdk:pack')
    .description('Build the device SDK into packages/sdk/dist (one ES module + declarations) and npm-pack it')
    .option('--out <dir>', 'where the tarball goes', '.')
    .parse(process.argv);
  const { out } = program.opts<{ out: string }>();
  try {
    const r = await packDeviceSdk(out);
    process.stdout.write(
      `${r.tarball}\n(bundle ${Math.round(r.bundleBytes / 1024)} KB; install it with: npm install ${r.tarball})\n`,
    );
  } catch (e) {
    process.stderr.write(`sdk:pack failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
