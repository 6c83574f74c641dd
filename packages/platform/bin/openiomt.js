#!/usr/bin/env -S node --max-semi-space-size=64
// A larger young generation: under a full ward most of a reading's objects die young, and the default
// 16 MB semi-space made scavenges frequent enough to show in alarm latency (npm run bench:alarm).
// Runs the TypeScript sources directly (tsx), so `npm ci` is the whole install: there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
