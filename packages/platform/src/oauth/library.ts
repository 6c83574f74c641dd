/**
 * oidc-provider, loaded without its runtime notice. The library prints "Unsupported runtime" on every load
 * below Node 22; OpenIoMT supports Node 20.19+ (its whole OAuth suite passes there), and the notice would
 * otherwise land on the stderr of every CLI command. Only that one line is held back, only while loading.
 */
import type * as Library from 'oidc-provider';

const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
  warn.apply(console, args);
};
let library: typeof Library;
try {
  library = await import('oidc-provider');
} finally {
  console.warn = warn;
}

export const Provider = library.default;
export const errors = library.errors;
export const interactionPolicy = library.interactionPolicy;
