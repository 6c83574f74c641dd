import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DroppedRecords, Outbox, OutboxFullError } from './outbox.ts';
import { encodeFrame } from './outbox-format.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lastSegment = async (d: string): Promise<string> => {
  const names = (await readdir(d)).filter((n) => n.endsWith('.seg')).sort();
  if (names.length === 0) throw new Error(`no segment in ${d}`);
  return join(d, names.at(-1)!);
};
const hasSegment = async (d: string) => (await readdir(d)).some((n) => n.endsWith('.seg'));

describe('Outbox', () => {
  it('returns records oldest first and removes acknowledged ones from the head', async () => {
    const box = await Outbox.open(dir);
    for (const m of ['a', 'b', 'c', 'd']) await box.append(m);
    expect((await box.peek(10)).map((r) => r.jws)).toEqual(['a', 'b', 'c', 'd']);
    await box.ack(2);
    expect((await box.peek(10)).map((r) => r.jws)).toEqual(['c', 'd']);
    const [c] = await box.peek(1);
    expect((await box.peek(5, c!.id + 1)).map((r) => r.jws)).toEqual(['d']);
    await box.close();
    const again = await Outbox.open(dir);
    expect((await again.peek(10)).map((r) => r.jws)).toEqual(['c', 'd']);
    await again.close();
  });

  it('remembers across a reopen which records were sent before', async () => {
    const box = await Outbox.open(dir);
    const ids = await Promise.all(['a', 'b', 'c'].map((m) => box.append(m)));
    await box.markSent(ids[1]!, 'batch-key');
    await box.close();
    const again = await Outbox.open(dir);
    expect((await again.peek(10)).map((r) => r.sent)).toEqual([true, true, false]);
    expect(again.sentTag).toBe('batch-key');
    await again.close();
  });

  it('drops a torn final record and keeps every earlier one', async () => {
    const box = await Outbox.open(dir);
    for (const m of ['one', 'two', 'three']) await box.append(m);
    await box.close();
    const seg = await lastSegment(dir);
    const size = (await stat(seg)).size;
    await truncate(seg, size - 2); // the crash cut the last record short
    const again = await Outbox.open(dir);
    expect((await again.peek(10)).map((r) => r.jws)).toEqual(['one', 'two']);
    expect(again.stats().tornBytesDiscarded).toBeGreaterThan(0);
    await again.append('four');
    await again.close();
    const third = await Outbox.open(dir);
    expect((await third.peek(10)).map((r) => r.jws)).toEqual(['one', 'two', 'four']);
    await third.close();
  });

  it('detects a zero-filled or corrupted tail by its checksum', async () => {
    const box = await Outbox.open(dir);
    await box.append('kept');
    await box.close();
    const seg = await lastSegment(dir);
    const bad = encodeFrame(Buffer.from('corrupt'));
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    await appendFile(seg, Buffer.concat([bad, Buffer.alloc(16)]));
    const again = await Outbox.open(dir);
    expect((await again.peek(10)).map((r) => r.jws)).toEqual(['kept']);
    await again.close();
  });

  it('drop-oldest makes room for the newest and reports every dropped record', async () => {
    const dropped: DroppedRecords[] = [];
    const box = await Outbox.open(dir, { maxBytes: 1024, onDrop: (d) => dropped.push(d) });
    const body = (i: number) => `${String(i).padStart(3, '0')}${'x'.repeat(97)}`; // 108 bytes framed
    for (let i = 0; i < 20; i++) await box.append(body(i));
    const left = (await box.peek(100)).map((r) => r.jws);
    expect(left.at(-1)).toBe(body(19));
    expect(left.length).toBe(9); // floor(1024 / 108)
    expect(left).toEqual(Array.from({ length: 9 }, (_, i) => body(11 + i)));
    expect(box.stats().dropped).toBe(11);
    expect(dropped.reduce((n, d) => n + d.count, 0)).toBe(11);
    expect(box.stats().bytes).toBeLessThanOrEqual(1024);
    await box.close();
  });

  it('reject-new refuses appends when full and keeps what it has', async () => {
    const box = await Outbox.open(dir, { maxBytes: 1024, whenFull: 'reject-new' });
    const body = 'y'.repeat(100);
    for (let i = 0; i < 9; i++) await box.append(body);
    await expect(box.append(body)).rejects.toBeInstanceOf(OutboxFullError);
    expect(box.stats().records).toBe(9);
    await box.ack(1);
    await expect(box.append(body)).resolves.toBeTypeOf('number');
    await box.close();
  });

  it('refuses a single record larger than the whole outbox under either policy', async () => {
    const box = await Outbox.open(dir, { maxBytes: 1024 });
    await expect(box.append('z'.repeat(2000))).rejects.toBeInstanceOf(OutboxFullError);
    await box.close();
  });

  it('group commit shares fsyncs and keeps append order', async () => {
    const box = await Outbox.open(dir, { groupCommitMs: 2 });
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => box.append(`m${i}`)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await box.peek(500)).map((r) => r.jws)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    await box.close();
  });

  it('keeps every segment within segmentBytes and the files within maxBytes plus one segment', async () => {
    const maxBytes = 8192;
    const segmentBytes = 2048;
    const box = await Outbox.open(dir, { maxBytes, segmentBytes, groupCommitMs: 1 });
    const record = (i: number) => `r${i}-${'x'.repeat(150 + (i % 7) * 40)}`;
    // Bursts of concurrent appends form batches of various sizes; drop-oldest keeps the outbox full.
    for (let burst = 0; burst < 30; burst++)
      await Promise.all(
        Array.from({ length: 1 + (burst % 9) }, (_, i) => box.append(record(burst * 10 + i))),
      );
    await box.ack(3);
    await box.close();
    const sizes = await Promise.all(
      (await readdir(dir))
        .filter((n) => n.endsWith('.seg'))
        .map(async (n) => (await stat(join(dir, n))).size),
    );
    expect(Math.max(...sizes)).toBeLessThanOrEqual(segmentBytes);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxBytes + segmentBytes);
  });

  it('deletes fully acknowledged segments and drained() resolves when empty', async () => {
    const box = await Outbox.open(dir, { maxBytes: 4096, segmentBytes: 256 });
    for (let i = 0; i < 30; i++) await box.append(`record-${i}-${'p'.repeat(40)}`);
    expect(box.stats().segments).toBeGreaterThan(3);
    const drained = box.drained();
    await box.ack(30);
    await drained;
    await box.append('next');
    await box.ack(1);
    expect(box.stats().segments).toBeLessThanOrEqual(2);
    await box.close();
    const cursor = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8'));
    expect(cursor.head).toBe(31);
  });

  it('property: crashes and reopens never lose, reorder or duplicate an unacknowledged record', async () => {
    type Op =
      | { kind: 'append'; n: number }
      | { kind: 'ack'; n: number }
      | { kind: 'sent'; n: number }
      | { kind: 'crash'; torn: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('sent' as const), n: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('crash' as const), torn: fc.integer({ min: 0, max: 20 }) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops: Op[]) => {
        const d = join(dir, `run-${run++}`);
        const opts = { segmentBytes: 120, sync: false };
        let box = await Outbox.open(d, opts);
        const model: { text: string; sent: boolean }[] = [];
        let counter = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const texts = Array.from({ length: o.n }, () => `msg-${counter++}`);
            await Promise.all(texts.map((t) => box.append(t)));
            model.push(...texts.map((text) => ({ text, sent: false })));
          } else if (o.kind === 'ack') {
            await box.ack(o.n);
            model.splice(0, o.n);
          } else if (o.kind === 'sent') {
            const head = await box.peek(o.n);
            if (head.length > 0) await box.markSent(head.at(-1)!.id);
            for (let i = 0; i < head.length; i++) model[i]!.sent = true;
          } else {
            await box.close();
            // A crash in the middle of an append leaves a partial record behind.
            if (o.torn > 0 && (await hasSegment(d)))
              await appendFile(
                await lastSegment(d),
                encodeFrame(Buffer.from('torn')).subarray(0, o.torn % 12),
              );
            box = await Outbox.open(d, opts);
          }
          const seen = await box.peek(10_000);
          expect(seen.map((r) => ({ text: r.jws, sent: r.sent }))).toEqual(model);
          expect(box.stats().records).toBe(model.length);
        }
        await box.close();
      }),
      { numRuns: 60 },
    );
  });
  it('property: drop-oldest keeps exactly the newest records that fit, counting every drop', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }), {
          maxLength: 20,
        }),
        fc.boolean(),
        async (bursts, reopen) => {
          const d = join(dir, `full-${run++}`);
          const opts = { maxBytes: 2048, sync: false };
          let box = await Outbox.open(d, opts);
          const model: string[] = [];
          let modelBytes = 0;
          let droppedTotal = 0;
          let counter = 0;
          for (const burst of bursts) {
            const texts = burst.map((len) => `${counter++}:`.padEnd(len, '~'));
            await Promise.all(texts.map((t) => box.append(t)));
            for (const t of texts) {
              const frame = 8 + Buffer.byteLength(t);
              while (modelBytes + frame > 2048) {
                modelBytes -= 8 + Buffer.byteLength(model.shift()!);
                droppedTotal += 1;
              }
              model.push(t);
              modelBytes += frame;
            }
            expect(box.stats().bytes).toBeLessThanOrEqual(2048);
            if (reopen) {
              await box.close();
              box = await Outbox.open(d, opts);
            }
          }
          expect((await box.peek(10_000)).map((r) => r.jws)).toEqual(model);
          // The counter is per open outbox, so it is only comparable without reopening.
          if (!reopen) expect(box.stats().dropped).toBe(droppedTotal);
          await box.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
