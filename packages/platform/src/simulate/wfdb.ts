// The simulator's one doorway to the WFDB reader of @openiomt/signal. That package has no index.ts yet
// (its exports map names ./src/index.ts), so the reader is imported by path here, in this file only; once
// @openiomt/signal exports these names, replace the paths with the package name.
export { parseHeader, type RecordHeader, type SignalSpec } from '../../../signal/src/wfdb/header.ts';
export { readRecord } from '../../../signal/src/wfdb/loader.ts';
export {
  checksum,
  decodeRecord,
  INVALID_SAMPLE,
  type WfdbRecord,
  type WfdbSignal,
} from '../../../signal/src/wfdb/signal.ts';
