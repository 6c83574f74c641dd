import fc from 'fast-check';
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { type FrameResult, MqttFramer } from './framer.ts';

const publishBytes = (payloadLength: number, messageId: number): Buffer =>
  generate({
    cmd: 'publish',
    topic: 'openiomt/v1/devices/d/readings',
    payload: Buffer.alloc(payloadLength, 7),
    qos: 1,
    retain: false,
    dup: false,
    messageId,
  });

function drain(framer: MqttFramer): FrameResult[] {
  const out: FrameResult[] = [];
  for (let next = framer.next(); next.kind !== 'need-more'; next = framer.next()) {
    out.push(next);
    if (next.kind !== 'frame') break;
  }
  return out;
}

describe('MqttFramer', () => {
  it('returns exactly the packets sent, however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 20 }),
        (payloadLengths, cuts) => {
          const packets = payloadLengths.map((length, i) => publishBytes(length, i + 1));
          const stream = Buffer.concat(packets);
          const framer = new MqttFramer(1 << 20);
          const frames: Buffer[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const end = Math.min(stream.length, offset + cuts[i % cuts.length]!);
            framer.push(stream.subarray(offset, end));
            offset = end;
            for (const result of drain(framer)) {
              if (result.kind !== 'frame') throw new Error(`unexpected ${result.kind}`);
              expect(result.type).toBe(3);
              frames.push(result.frame);
            }
          }
          expect(frames.map((f) => f.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
          expect(framer.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses an oversize packet from its header alone', () => {
    const framer = new MqttFramer(1_000);
    framer.push(publishBytes(5_000, 1).subarray(0, 4));
    expect(framer.next()).toEqual({ kind: 'oversize', size: 5_000 + 2 + 30 + 2 + 3 });
  });

  it('calls a remaining length of more than four bytes malformed', () => {
    const framer = new MqttFramer(1_000);
    framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(framer.next()).toMatchObject({ kind: 'malformed' });
  });

  it('waits for the rest of a header split after its first byte', () => {
    const framer = new MqttFramer(1_000);
    framer.push(Buffer.from([0xc0]));
    expect(framer.next()).toEqual({ kind: 'need-more' });
    framer.push(Buffer.from([0x00]));
    expect(framer.next()).toMatchObject({ kind: 'frame', type: 12 });
  });
});
