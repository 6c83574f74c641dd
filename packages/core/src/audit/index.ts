export * from './merkle.ts';
export * from './record.ts';
export * from './tree-head.ts';
