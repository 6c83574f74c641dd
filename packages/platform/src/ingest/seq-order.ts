/**
 * The order to submit a batch of compact JWS messages in: by the seq their payloads claim, ascending. The
 * payload is read only for its seq, before any check: a message whose seq cannot be read keeps its place
 * relative to the others it cannot be compared with (it goes last) and is judged, and refused, as usual.
 */
export function peekSeq(compact: string): number | undefined {
  const first = compact.indexOf('.');
  const second = compact.indexOf('.', first + 1);
  if (first < 0 || second < 0) return undefined;
  try {
    const payload: unknown = JSON.parse(
      Buffer.from(compact.slice(first + 1, second), 'base64url').toString('utf8'),
    );
    const seq = (payload as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** Indices of `messages` in ascending claimed seq; a stable sort, unreadable seqs last. */
export function inAscendingSeq(messages: readonly string[]): number[] {
  const seqs = messages.map((m) => peekSeq(m) ?? Number.POSITIVE_INFINITY);
  return seqs.map((_, i) => i).sort((a, b) => (seqs[a] as number) - (seqs[b] as number) || a - b);
}
