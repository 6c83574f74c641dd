import { REJECTION_CODES as CORE_REJECTION_CODES } from '@openiomt/core';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES, SECURITY_KINDS } from '../../../web/app/admin/event-kinds.ts';
import { SECURITY_EVENT_KINDS } from '../store/types.ts';

// The admin console's filters restate these lists (the browser bundle does not import the platform).
describe("the admin console's event filters", () => {
  it('offer every refusal reason the platform gives, and no other', () => {
    expect([...REJECTION_CODES].sort()).toEqual(Object.keys(CORE_REJECTION_CODES).sort());
  });

  it('offer every security event kind the platform records, and no other', () => {
    const platform = new Set<string>([...Object.keys(CORE_REJECTION_CODES), ...SECURITY_EVENT_KINDS]);
    expect(new Set<string>(SECURITY_KINDS)).toEqual(platform);
  });
});
