export * from './backoff.ts';
export * from './keys.ts';
export * from './mqtt-transport.ts';
export * from './outbox.ts';
export * from './sequence.ts';
export * from './signer.ts';
