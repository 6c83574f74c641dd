/**
 * The subset of FHIR R4 types the mapping produces. @types/fhir here is STU3 (a global `fhir` namespace,
 * no `fhir/r4`), so these are local (type aliases, so they are assignable to Record<string, unknown>); their shapes follow R4 and the tests validate every resource the
 * mapping makes against the official R4 JSON schema.
 */

export type Coding = {
  system?: string;
  code?: string;
  display?: string;
};

export type CodeableConcept = {
  coding?: Coding[];
  text?: string;
};

export type Quantity = {
  value?: number;
  unit?: string;
  system?: string;
  code?: string;
};

export type Reference = {
  reference?: string;
  display?: string;
};

export type Identifier = {
  type?: CodeableConcept;
  system?: string;
  value?: string;
};

export type Extension = {
  url: string;
  valueString?: string;
};

export type Meta = {
  profile?: string[];
};

export type Period = {
  start?: string;
  end?: string;
};

export type SampledData = {
  origin: Quantity;
  period: number;
  factor?: number;
  lowerLimit?: number;
  upperLimit?: number;
  dimensions: number;
  data?: string;
};

export type ObservationComponent = {
  code: CodeableConcept;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueBoolean?: boolean;
  valueSampledData?: SampledData;
  dataAbsentReason?: CodeableConcept;
};

export type Observation = {
  resourceType: 'Observation';
  id?: string;
  meta?: Meta;
  identifier?: Identifier[];
  status:
    | 'registered'
    | 'preliminary'
    | 'final'
    | 'amended'
    | 'corrected'
    | 'cancelled'
    | 'entered-in-error'
    | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueBoolean?: boolean;
  valueSampledData?: SampledData;
  dataAbsentReason?: CodeableConcept;
  device?: Reference;
  component?: ObservationComponent[];
};

export type Signature = {
  extension?: Extension[];
  type: Coding[];
  when: string;
  who: Reference;
  sigFormat?: string;
  targetFormat?: string;
  data?: string;
};

export type ProvenanceAgent = {
  type?: CodeableConcept;
  role?: CodeableConcept[];
  who: Reference;
};

export type Provenance = {
  resourceType: 'Provenance';
  id?: string;
  target: Reference[];
  occurredDateTime?: string;
  recorded: string;
  activity?: CodeableConcept;
  agent: ProvenanceAgent[];
  signature?: Signature[];
};

export type DeviceName = {
  name: string;
  type:
    | 'udi-label-name'
    | 'user-friendly-name'
    | 'patient-reported-name'
    | 'manufacturer-name'
    | 'model-name'
    | 'other';
};

export type DeviceVersion = {
  type?: CodeableConcept;
  value: string;
};

export type Device = {
  resourceType: 'Device';
  id?: string;
  identifier?: Identifier[];
  status?: 'active' | 'inactive' | 'entered-in-error' | 'unknown';
  statusReason?: CodeableConcept[];
  manufacturer?: string;
  deviceName?: DeviceName[];
  modelNumber?: string;
  type?: CodeableConcept;
  version?: DeviceVersion[];
  patient?: Reference;
};

export type HumanName = {
  text?: string;
};

export type Patient = {
  resourceType: 'Patient';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
};
