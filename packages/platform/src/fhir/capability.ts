/**
 * The CapabilityStatement: what this server really answers, resource by resource, with the search
 * parameters the routes accept (every other parameter is refused with 400). Kept beside the routes; the
 * capability test compares the two.
 */

type Param = readonly [name: string, type: string];
interface ResourceCapability {
  readonly type: string;
  readonly interaction: readonly string[];
  readonly searchParam: readonly Param[];
  readonly operation?: readonly { name: string; definition: string }[];
  readonly searchInclude?: readonly string[];
}

const COUNT: Param = ['_count', 'number'];

export const RESOURCES: readonly ResourceCapability[] = [
  {
    type: 'Observation',
    interaction: ['read', 'search-type', 'create'],
    searchParam: [
      ['patient', 'reference'],
      ['subject', 'reference'],
      ['code', 'token'],
      ['category', 'token'],
      ['device', 'reference'],
      ['date', 'date'],
      ['_id', 'token'],
      ['_lastUpdated', 'date'],
      ['_sort', 'special'],
      COUNT,
      ['_summary', 'special'],
      ['purpose', 'token'],
    ],
    searchInclude: ['Observation:device', 'Observation:patient', 'Observation:subject'],
    operation: [{ name: 'lastn', definition: 'http://hl7.org/fhir/OperationDefinition/Observation-lastn' }],
  },
  {
    type: 'Patient',
    interaction: ['read', 'search-type'],
    searchParam: [['_id', 'token'], ['identifier', 'token'], COUNT],
  },
  { type: 'Practitioner', interaction: ['read', 'search-type'], searchParam: [['_id', 'token'], COUNT] },
  {
    type: 'CareTeam',
    interaction: ['read', 'search-type'],
    searchParam: [
      ['patient', 'reference'],
      ['subject', 'reference'],
      ['participant', 'reference'],
      ['_id', 'token'],
      COUNT,
    ],
  },
  {
    type: 'Device',
    interaction: ['read', 'search-type'],
    searchParam: [
      ['patient', 'reference'],
      ['identifier', 'token'],
      ['_id', 'token'],
      ['status', 'token'],
      COUNT,
    ],
  },
  {
    type: 'Consent',
    interaction: ['read', 'search-type', 'create', 'update'],
    searchParam: [
      ['patient', 'reference'],
      ['_id', 'token'],
    ],
  },
  {
    type: 'Flag',
    interaction: ['read', 'search-type'],
    searchParam: [['patient', 'reference'], ['subject', 'reference'], ['status', 'token'], COUNT],
  },
  {
    type: 'Communication',
    interaction: ['read', 'search-type'],
    searchParam: [['patient', 'reference'], ['subject', 'reference'], ['about', 'reference'], COUNT],
  },
  {
    type: 'AuditEvent',
    interaction: ['read', 'search-type'],
    searchParam: [['patient', 'reference'], ['date', 'date'], COUNT],
  },
  { type: 'Provenance', interaction: ['read', 'search-type'], searchParam: [['target', 'reference']] },
  // src/subscriptions/: the owner's own subscriptions only; channels rest-hook and websocket.
  {
    type: 'Subscription',
    interaction: ['read', 'search-type', 'create', 'update', 'delete'],
    searchParam: [['status', 'token']],
  },
];

/**
 * The SMART on FHIR security section (rest.security: the oauth-uris extension and the SMART service
 * coding) is built by the OAuth work (src/oauth/) and passed in here; without it the statement says only
 * that the API takes the administrator token or a session.
 */
export type SecuritySection = Record<string, unknown>;

export function capabilityStatement(security?: SecuritySection): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-28',
    kind: 'instance',
    software: { name: 'OpenIoMT' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: security ?? {
          description: 'Bearer administrator/service token, or a signed-in session (cookie)',
        },
        interaction: [{ code: 'transaction' }],
        resource: RESOURCES.map((r) => ({
          type: r.type,
          interaction: r.interaction.map((code) => ({ code })),
          ...(r.type === 'Consent' ? { versioning: 'versioned-update', conditionalUpdate: false } : {}),
          searchParam: r.searchParam.map(([name, type]) => ({ name, type })),
          ...(r.searchInclude ? { searchInclude: r.searchInclude } : {}),
          ...(r.operation ? { operation: r.operation } : {}),
        })),
      },
    ],
  };
}
