// @openiomt/signal: pure signal analysis (WFDB reading, QRS detection, EC57 evaluation).
export { detectRecordQrs, ecgLeadIndices, ecgSignalIndex, qrsCommand } from './cli.ts';
export { detectQrs, detectQrsMultiLead, type QrsOptions } from './ecg/qrs.ts';
export {
  type BeatEvent,
  beatsFromSamples,
  compareBeats,
  type Ec57Options,
  type Ec57Result,
  medianAbs,
} from './eval/ec57.ts';
export {
  type Annotation,
  type AnnotationFile,
  parseAnnotations,
  rescaleAnnotations,
  WfdbAnnotationError,
} from './wfdb/annotation.ts';
export { bxbClassOf, isBeatCode, symbolOf } from './wfdb/codes.ts';
export { parseHeader, type RecordHeader, type SignalSpec, WfdbHeaderError } from './wfdb/header.ts';
export { readAnnotations, readRecord } from './wfdb/loader.ts';
export {
  checksum,
  decodeRecord,
  INVALID_SAMPLE,
  toPhysical,
  WfdbFormatError,
  type WfdbRecord,
  type WfdbSignal,
} from './wfdb/signal.ts';
