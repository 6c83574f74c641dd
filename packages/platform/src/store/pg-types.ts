/**
 * How both adapters turn PostgreSQL text values into JavaScript, so rows look the same whichever runs:
 * timestamptz → ISO 8601 string in UTC with milliseconds; int8 → number.
 */
export const PG_PARSERS_OIDS = { int8: 20, timestamptz: 1184 } as const;

/** `2025-01-02 03:04:05.678+00` (DateStyle ISO, TimeZone UTC) → `2025-01-02T03:04:05.678Z`. */
export function parseTimestamptz(text: string): string {
  const d = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  // 'infinity' and the like are not instants; hand them back untouched rather than throwing.
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

export const parseInt8 = (text: string): number => Number(text);
