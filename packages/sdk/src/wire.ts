/** The seq inside a signed reading, read without verifying (for reports about our own messages). */
export function seqOf(jws: string): number | undefined {
  const payload = jws.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const seq = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}
