// MIT annotation codes (WFDB ecgcodes.h) and the beat/non-beat split used by EC57 (WFDB `isqrs`).

/** Mnemonic for each code 0..49, as printed by rdann; codes without a mnemonic print as "[n]". */
export const ANNOTATION_SYMBOLS: readonly string[] = [
  ' ', 'N', 'L', 'R', 'a', 'V', 'F', 'J', 'A', 'S',
  'E', 'j', '/', 'Q', '~', '[15]', '|', '[17]', 's', 'T',
  '*', 'D', '"', '=', 'p', 'B', '^', 't', '+', 'u',
  '?', '!', '[', ']', 'e', 'n', '@', 'x', 'f', '(',
  ')', 'r', '[42]', '[43]', '[44]', '[45]', '[46]', '[47]', '[48]', '[49]',
]; // biome-ignore format: one row per ten codes mirrors the C table

export const CODE = {
  NOTQRS: 0,
  NORMAL: 1,
  NOISE: 14,
  NOTE: 22,
  RHYTHM: 28,
} as const;

/** Codes that denote a QRS complex (WFDB `wfdb_qrs[]`): N L R a V F J A S E j / Q B ? ! e n f r. */
const BEAT_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 31, 34, 35, 38, 41]);

export function isBeatCode(code: number): boolean {
  return BEAT_CODES.has(code);
}

export function symbolOf(code: number): string {
  return ANNOTATION_SYMBOLS[code] ?? `[${code}]`;
}

/** bxb `amap()` beat classes: N, V, F, Q, or O (not a beat). S-class codes count as N outside SVEB reports. */
export type BxbClass = 'N' | 'S' | 'V' | 'F' | 'Q' | 'O';

export function bxbClassOf(code: number): BxbClass {
  switch (code) {
    case 1:
    case 2:
    case 3:
    case 25:
      return 'N';
    case 4:
    case 7:
    case 8:
    case 9:
    case 11:
    case 34:
    case 35:
      return 'S';
    case 5:
    case 10:
    case 41:
      return 'V';
    case 6:
      return 'F';
    case 12:
    case 13:
    case 30:
    case 38:
      return 'Q';
    default:
      return 'O';
  }
}
