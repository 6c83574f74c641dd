/**
 * RFC 3339 date-time with a mandatory offset (Z or ±hh:mm), restricted to what a FHIR R4 instant allows:
 * year 0001..9999 and offsets within ±14:00 (every real time zone). Seconds 60 (leap) are refused.
 */
const RFC3339 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))$/;

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/** Milliseconds since the epoch, or undefined when the text is not a valid RFC 3339 instant. */
export function parseInstant(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  // Date.parse rolls 2023-02-31 over to March 3rd; a device clock that says so is broken, not late.
  if (year === 0 || Number(m[3]) > daysInMonth(year, month)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
