/**
 * Bundles the browser app (app/) with esbuild, in memory, and precompresses it. The platform calls this once
 * per process when the first page is asked for, so there is no build step: `npm start` serves what is in
 * the checkout. Asset names carry a content hash, so they can be cached for a year; index.html cannot.
 */
import { createHash } from 'node:crypto';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface WebAsset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly brotli: Buffer;
  readonly contentType: string;
  readonly etag: string;
  /** Hashed file name: may be cached for good. */
  readonly immutable: boolean;
}

/** URL path (`/`, `/assets/main-XXXX.js`) → asset. */
export type WebApp = ReadonlyMap<string, WebAsset>;

const here = dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json',
};

export async function buildWebApp(options: { minify?: boolean } = {}): Promise<WebApp> {
  const result = await build({
    entryPoints: [join(here, 'app/main.tsx')],
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: join(here, 'dist/assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    write: false,
    minify: options.minify ?? true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const assets = new Map<string, WebAsset>();
  let entryJs = '';
  let entryCss = '';
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const path = `/assets/${name}`;
    assets.set(
      path,
      asset(Buffer.from(file.contents), TYPES[extname(name)] ?? 'application/octet-stream', true),
    );
    if (name.startsWith('main-') && name.endsWith('.js')) entryJs = path;
    if (name.startsWith('main-') && name.endsWith('.css')) entryCss = path;
  }
  if (!entryJs) throw new Error('the web app bundle has no entry script');
  assets.set('/', asset(Buffer.from(indexHtml(entryJs, entryCss)), TYPES['.html'] as string, false));
  return assets;
}

function indexHtml(script: string, style: string): string {
  // The favicon is inline (img-src allows data:) so the page makes no request the CSP would refuse.
  const icon =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M1 9h3l2-6 3 10 2-4h4' fill='none' stroke='%230b5cad' stroke-width='2'/%3E%3C/svg%3E";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>OpenIoMT</title>
<link rel="icon" href="${icon}">
${style ? `<link rel="stylesheet" href="${style}">` : ''}
<script type="module" src="${script}"></script>
</head>
<body>
<div id="app"><noscript>OpenIoMT needs JavaScript.</noscript></div>
</body>
</html>
`;
}

function asset(body: Buffer, contentType: string, immutable: boolean): WebAsset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    immutable,
  };
}
