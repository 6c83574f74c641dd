export * from './codes/vitals.ts';
export * from './message/decode.ts';
export * from './message/device-token.ts';
export * from './message/jws.ts';
export * from './message/reading.ts';
export * from './message/rejection.ts';
export * from './message/time.ts';
export * from './message/topics.ts';
