import { randomUUID } from 'node:crypto';
import {
  DEVICE_ID_PATTERN,
  type DeviceStatus,
  decodeReading,
  deviceTokenClaims,
  MAX_TOKEN_LIFETIME_S,
  type ReadingMessage,
  signCompactJws,
  type VitalSample,
  type WaveformChunk,
} from '@openiomt/core';
import type { DeviceKeyPair } from './keys.ts';
import type { SequenceStore } from './sequence.ts';

export const READING_JWS_TYPE = 'openiomt-reading+jws';

export interface ReadingContent {
  readonly vitals?: readonly VitalSample[];
  readonly waveforms?: readonly WaveformChunk[];
  readonly status?: DeviceStatus;
}

export interface ReadingSignerOptions {
  readonly deviceId: string;
  readonly key: DeviceKeyPair;
  readonly sequence: SequenceStore;
  /** Milliseconds since the epoch; defaults to Date.now. */
  readonly clock?: () => number;
}

/** Builds, validates and signs reading messages and device tokens for one device. */
export class ReadingSigner {
  readonly deviceId: string;
  private readonly clock: () => number;

  constructor(private readonly opts: ReadingSignerOptions) {
    if (!DEVICE_ID_PATTERN.test(opts.deviceId))
      throw new Error('deviceId must be letters, digits, . _ - (at most 64)');
    this.deviceId = opts.deviceId;
    this.clock = opts.clock ?? Date.now;
  }

  get kid(): string {
    return this.opts.key.kid;
  }

  /**
   * Signs one reading. The content is checked with the platform's own decoder first, so a message the
   * platform would refuse is refused here, before it spends a sequence number or space in the outbox.
   */
  async sign(content: ReadingContent): Promise<{ seq: number; jws: string }> {
    const draft = this.message(content, 1);
    const check = decodeReading(JSON.stringify(draft));
    if (!check.ok) throw new Error(`reading refused: ${check.rejection.detail}`);
    const seq = await this.opts.sequence.next();
    const message = { ...draft, seq };
    return {
      seq,
      jws: signCompactJws(message, this.opts.key.privateKey, this.opts.key.kid, READING_JWS_TYPE),
    };
  }

  /** A fresh device token (JWT, EdDSA) for MQTT CONNECT or an HTTP Authorization header. */
  token(lifetimeS = 300): string {
    if (!Number.isInteger(lifetimeS) || lifetimeS < 1 || lifetimeS > MAX_TOKEN_LIFETIME_S)
      throw new Error(`token lifetime must be 1..${MAX_TOKEN_LIFETIME_S} seconds`);
    const claims = { ...deviceTokenClaims(this.deviceId, this.clock(), lifetimeS), jti: randomUUID() };
    return signCompactJws(claims, this.opts.key.privateKey, this.opts.key.kid, 'JWT');
  }

  private message(content: ReadingContent, seq: number): ReadingMessage {
    const base = {
      v: 1 as const,
      device: this.deviceId,
      seq,
      ts: new Date(this.clock()).toISOString(),
      vitals: content.vitals ?? [],
      waveforms: content.waveforms ?? [],
    };
    return content.status === undefined ? base : { ...base, status: content.status };
  }
}
