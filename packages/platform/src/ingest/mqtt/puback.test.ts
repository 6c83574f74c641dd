import fc from 'fast-check';
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { successPuback } from './puback.ts';

describe('successPuback', () => {
  it('is byte for byte what mqtt-packet generates, in MQTT 3.1.1 and 5', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffff }), (messageId) => {
        const ours = successPuback(messageId);
        expect(ours).toEqual(generate({ cmd: 'puback', messageId }, { protocolVersion: 4 }));
        expect(ours).toEqual(generate({ cmd: 'puback', messageId, reasonCode: 0 }, { protocolVersion: 5 }));
      }),
    );
  });
});
