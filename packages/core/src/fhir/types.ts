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
  /** The resource type of a logical (identifier-only) reference. */
  type?: string;
  identifier?: Identifier;
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
  valueCode?: string;
  valueBoolean?: boolean;
  valueInteger?: number;
  valueDateTime?: string;
  valueCodeableConcept?: CodeableConcept;
  valueReference?: Reference;
  /** Parts of a complex extension (then no value[x]). */
  extension?: Extension[];
};

export type Meta = {
  lastUpdated?: string;
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
  interpretation?: CodeableConcept[];
  note?: Annotation[];
  method?: CodeableConcept;
  device?: Reference;
  derivedFrom?: Reference[];
  component?: ObservationComponent[];
};

export type Annotation = {
  text: string;
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

export type ProvenanceEntity = {
  role: 'derivation' | 'revision' | 'quotation' | 'source' | 'removal';
  what: Reference;
};

export type Provenance = {
  resourceType: 'Provenance';
  id?: string;
  target: Reference[];
  occurredPeriod?: Period;
  occurredDateTime?: string;
  recorded: string;
  activity?: CodeableConcept;
  agent: ProvenanceAgent[];
  entity?: ProvenanceEntity[];
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

export type Flag = {
  resourceType: 'Flag';
  id?: string;
  meta?: Meta;
  extension?: Extension[];
  identifier?: Identifier[];
  status: 'active' | 'inactive' | 'entered-in-error';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  period?: Period;
  author?: Reference;
};

export type CommunicationPayload = {
  contentString: string;
};

export type Communication = {
  resourceType: 'Communication';
  id?: string;
  meta?: Meta;
  extension?: Extension[];
  identifier?: Identifier[];
  status:
    | 'preparation'
    | 'in-progress'
    | 'not-done'
    | 'on-hold'
    | 'stopped'
    | 'completed'
    | 'entered-in-error'
    | 'unknown';
  category?: CodeableConcept[];
  priority?: 'routine' | 'urgent' | 'asap' | 'stat';
  subject?: Reference;
  about?: Reference[];
  sent?: string;
  recipient?: Reference[];
  reasonCode?: CodeableConcept[];
  payload?: CommunicationPayload[];
};
