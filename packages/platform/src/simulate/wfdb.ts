// The simulator's one doorway to the WFDB reader of @openiomt/signal.
export {
  checksum,
  decodeRecord,
  INVALID_SAMPLE,
  parseHeader,
  type RecordHeader,
  readRecord,
  type SignalSpec,
  type WfdbRecord,
  type WfdbSignal,
} from '@openiomt/signal';
