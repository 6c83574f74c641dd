// @openiomt/signal: pure signal analysis (WFDB reading, QRS detection, HR/HRV, AF screening, signal quality,
// EC57 and AF evaluation, PPG pulses, respiration rate, streaming waveform analysis).
export {
  describeSignals,
  detectRecordQrs,
  ecgLeadIndices,
  ecgSignalIndex,
  fusableLeadIndices,
  looksLikeEcg,
  MIN_ECG_HZ,
  NoEcgSignalError,
  type QrsCommandResult,
  qrsCommand,
  shortFileWarning,
  signalIndexOf,
} from './cli.ts';
export {
  type AfThresholds,
  afByWindow,
  COSEN_AF,
  isAfLike,
  MIN_RR_FOR_AF,
  NRMSSD_AF,
  type RrIrregularity,
  rrIrregularity,
  turningPointRatio,
} from './ecg/af.ts';
export {
  type AfBasis,
  MIN_P_WAVE_BEATS,
  P_WAVE_WINDOW,
  P_WAVES_ABSENT,
  P_WAVES_PRESENT,
  type PWaveConsistency,
  pWaveConsistency,
  screenAf,
  WIDE_QRS_S,
} from './ecg/atrial.ts';
export {
  type HeartRateWindow,
  type HrvSummary,
  hrvSummary,
  instantaneousHeartRate,
  type NnOptions,
  nnMask,
  type RrSeries,
  rrFromBeats,
  windowedHeartRate,
} from './ecg/hrv.ts';
export { detectQrs, detectQrsMultiLead, type QrsOptions } from './ecg/qrs.ts';
export {
  assessQuality,
  beatConformity,
  type ConformityOptions,
  cleanMask,
  type QualityIssue,
  type QualityOptions,
  type QualitySegment,
  type SignalQuality,
  templateCorrelation,
} from './ecg/quality.ts';
export {
  analyseRhythm,
  MIN_TEMPLATE_CORRELATION,
  type RhythmAnalysis,
  type RhythmCall,
} from './ecg/rhythm.ts';
export {
  type AfTimeAgreement,
  afTimeAgreement,
  parseRhythmListing,
  parseRrTable,
  poolAgreements,
  type RhythmChange,
  type RrTable,
  rhythmChanges,
  rhythmOfBeats,
  singleRhythmWindows,
} from './eval/afdb.ts';
export {
  type BeatEvent,
  beatsFromSamples,
  compareBeats,
  type Ec57Options,
  type Ec57Result,
  medianAbs,
} from './eval/ec57.ts';
export {
  detectPulses,
  type PulseOptions,
  pulseRate,
  pulseTemplateCorrelation,
} from './ppg/pulse.ts';
export {
  type RespirationOptions,
  type RespirationRate,
  type RespirationRefusal,
  respirationRate,
} from './resp/rate.ts';
export {
  type HrvWindow,
  MAX_RATE_HZ,
  MIN_RATE_HZ,
  RESP_SPAN_S,
  type StreamChunk,
  type StreamOptions,
  WAVEFORM_ANALYSIS_VERSION,
  type WaveformKind,
  WaveformStream,
  type WindowResult,
} from './stream/waveform-stream.ts';
export {
  type Annotation,
  type AnnotationFile,
  parseAnnotations,
  rescaleAnnotations,
  WfdbAnnotationError,
} from './wfdb/annotation.ts';
export { bxbClassOf, isBeatCode, symbolOf } from './wfdb/codes.ts';
export { parseHeader, type RecordHeader, type SignalSpec, WfdbHeaderError } from './wfdb/header.ts';
export {
  RECORD_PATH_HINT,
  readAnnotations,
  readRecord,
  WfdbFileError,
  type WfdbFileProblem,
} from './wfdb/loader.ts';
export {
  checksum,
  decodeRecord,
  INVALID_SAMPLE,
  type ShortFile,
  toPhysical,
  WfdbFormatError,
  type WfdbRecord,
  type WfdbSignal,
} from './wfdb/signal.ts';
