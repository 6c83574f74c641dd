/**
 * Usernames are case-insensitive: the form kept and compared is Unicode NFKC, trimmed and lower-cased, so
 * "Alice", " alice " and "ＡＬＩＣＥ" (full-width) are one account. The allowed alphabet is small (ASCII
 * letters, digits and . _ @ + -) so that no two different-looking names normalise to the same one and no
 * confusable characters enter names shown to administrators.
 */

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 64;
const USERNAME = /^[a-z0-9][a-z0-9._@+-]*$/;

/** The normalised username, or undefined when the input cannot be a username. */
export function normaliseUsername(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 4 * USERNAME_MAX) return undefined;
  const name = raw.normalize('NFKC').trim().toLowerCase();
  if (name.length < USERNAME_MIN || name.length > USERNAME_MAX || !USERNAME.test(name)) return undefined;
  return name;
}

export const USERNAME_RULE = `${USERNAME_MIN} to ${USERNAME_MAX} characters: letters, digits and . _ @ + - (starting with a letter or digit); not case-sensitive`;
