/**
 * Work reassignment configurations (beta API), used by the HR reassignment workflow.
 * Spec: ops-beta.yaml `/reassignment-configurations` (ConfigurationItemRequest, ConfigurationItemResponse).
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { SailPointNotFoundError } from '../errors';
import { isoDateTime, openEnum, parseRequestBody } from './common';

export const CONFIG_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'] as const;
/** For request bodies: only the known work types. */
export const ConfigTypeSchema = z.enum(CONFIG_TYPES);
export type ConfigType = z.infer<typeof ConfigTypeSchema>;
/** For responses: known work types, and any type ISC adds later. */
export const ConfigTypeReadSchema = openEnum(CONFIG_TYPES);

/** Identity reference of this service (`Identity-2` in the spec). */
export const ReassignmentIdentitySchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
});

export const ReassignmentConfigDetailSchema = z.looseObject({
  configType: ConfigTypeReadSchema,
  targetIdentity: ReassignmentIdentitySchema.nullish(),
  startDate: z.string().nullish(),
  /** Kept as sent: ISC documents an empty string (and shows '0001-01-01T00:00:00Z') for a permanent reassignment. */
  endDate: z.string().nullish(),
  auditDetails: z
    .looseObject({
      created: z.string().nullish(),
      createdBy: ReassignmentIdentitySchema.nullish(),
      modified: z.string().nullish(),
      modifiedBy: ReassignmentIdentitySchema.nullish(),
    })
    .nullish(),
});
export type ReassignmentConfigDetail = z.infer<typeof ReassignmentConfigDetailSchema>;

/** ConfigurationItemResponse / ConfigurationResponse: one identity and its reassignments. */
export const ReassignmentConfigurationSchema = z.looseObject({
  identity: ReassignmentIdentitySchema,
  configDetails: z
    .array(ReassignmentConfigDetailSchema)
    .nullish()
    .transform((v) => v ?? []),
});
export type ReassignmentConfiguration = z.infer<typeof ReassignmentConfigurationSchema>;

/** Request body of POST /beta/reassignment-configurations (ConfigurationItemRequest). */
export const CreateReassignmentConfigurationSchema = z.strictObject({
  reassignedFromId: z.string().min(1),
  reassignedToId: z.string().min(1),
  configType: ConfigTypeSchema,
  startDate: isoDateTime,
  /** null or absent: permanent reassignment. */
  endDate: isoDateTime.nullish(),
});
export type CreateReassignmentConfiguration = z.infer<typeof CreateReassignmentConfigurationSchema>;

/**
 * POST /beta/reassignment-configurations (201). Not idempotent: on 5xx or a timeout the client does
 * NOT re-send; read the identity's configuration back before creating it again.
 */
export async function createReassignmentConfiguration(
  client: SailPointTransport,
  body: CreateReassignmentConfiguration,
): Promise<ReassignmentConfiguration> {
  const operation = 'createReassignmentConfiguration';
  return client.send({
    operation,
    method: 'POST',
    path: '/beta/reassignment-configurations',
    body: parseRequestBody(operation, CreateReassignmentConfigurationSchema, body),
    responseSchema: ReassignmentConfigurationSchema,
  });
}

// ---------------------------------------------------------------------------------------------
// Reading, replacing, deleting and evaluating configurations (absence-reassignment workflow).
// ---------------------------------------------------------------------------------------------

/** The zero time some ISC services write for "no end date". */
const ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

/**
 * A configuration's end as an ISO date-time, or null for a permanent reassignment. ISC documents
 * an empty string (ConfigurationDetailsResponse) and shows the zero time '0001-01-01T00:00:00Z' in
 * its example; requests use null. All three mean "no end".
 */
export function reassignmentEndDate(endDate: string | null | undefined): string | null {
  if (endDate === undefined || endDate === null || endDate.trim() === '' || ZERO_TIME.test(endDate))
    return null;
  return endDate;
}

/** The detail of one work type in a configuration, or undefined when the identity has none of that type. */
export function configDetailOf(
  configuration: ReassignmentConfiguration | undefined,
  configType: ConfigType,
): ReassignmentConfigDetail | undefined {
  return configuration?.configDetails.find((detail) => detail.configType === configType);
}

/** GET /beta/reassignment-configurations: one page (limit 0..20, ISC's maximum and default 20). */
export async function listReassignmentConfigurations(
  client: SailPointTransport,
  page: { limit?: number; offset?: number } = {},
): Promise<ReassignmentConfiguration[]> {
  return client.send({
    operation: 'listReassignmentConfigurations',
    method: 'GET',
    path: '/beta/reassignment-configurations',
    query: { limit: page.limit, offset: page.offset },
    responseSchema: z.array(ReassignmentConfigurationSchema),
  });
}

/** Every configuration of the tenant, page by page (20 per request). */
export async function listAllReassignmentConfigurations(
  client: SailPointTransport,
): Promise<ReassignmentConfiguration[]> {
  const limit = 20;
  const all: ReassignmentConfiguration[] = [];
  for (let offset = 0; ; offset += limit) {
    const page = await listReassignmentConfigurations(client, { limit, offset });
    all.push(...page);
    if (page.length < limit) return all;
  }
}

/**
 * GET /beta/reassignment-configurations/{identityId}: the identity's configurations (all work
 * types). undefined when ISC answers 404 (unknown identity, or one without configurations).
 */
export async function getReassignmentConfiguration(
  client: SailPointTransport,
  identityId: string,
): Promise<ReassignmentConfiguration | undefined> {
  try {
    return await client.send({
      operation: 'getReassignmentConfiguration',
      method: 'GET',
      path: `/beta/reassignment-configurations/${encodeURIComponent(identityId)}`,
      responseSchema: ReassignmentConfigurationSchema,
    });
  } catch (error) {
    if (error instanceof SailPointNotFoundError) return undefined;
    throw error;
  }
}

/** Request body of PUT /beta/reassignment-configurations/{identityId}: the same ConfigurationItemRequest. */
export const UpdateReassignmentConfigurationSchema = CreateReassignmentConfigurationSchema;
export type UpdateReassignmentConfiguration = CreateReassignmentConfiguration;

/**
 * PUT /beta/reassignment-configurations/{identityId} (200): replaces the identity's configuration
 * of `body.configType`. Idempotent, so the client retries it on 5xx and timeouts.
 */
export async function updateReassignmentConfiguration(
  client: SailPointTransport,
  identityId: string,
  body: UpdateReassignmentConfiguration,
): Promise<ReassignmentConfiguration> {
  const operation = 'putReassignmentConfig';
  return client.send({
    operation,
    method: 'PUT',
    path: `/beta/reassignment-configurations/${encodeURIComponent(identityId)}`,
    body: parseRequestBody(operation, UpdateReassignmentConfigurationSchema, body),
    responseSchema: ReassignmentConfigurationSchema,
  });
}

/**
 * DELETE /beta/reassignment-configurations/{identityId}/{configType} (204). 'not-found' when there
 * was nothing to delete (404), which after a retried DELETE also means the first attempt succeeded.
 */
export async function deleteReassignmentConfiguration(
  client: SailPointTransport,
  identityId: string,
  configType: ConfigType,
): Promise<'deleted' | 'not-found'> {
  try {
    await client.send({
      operation: 'deleteReassignmentConfiguration',
      method: 'DELETE',
      path: `/beta/reassignment-configurations/${encodeURIComponent(identityId)}/${encodeURIComponent(configType)}`,
      responseSchema: z.unknown(),
    });
    return 'deleted';
  } catch (error) {
    if (error instanceof SailPointNotFoundError) return 'not-found';
    throw error;
  }
}

export const ReassignmentTypeReadSchema = openEnum([
  'MANUAL_REASSIGNMENT',
  'AUTOMATIC_REASSIGNMENT',
  'AUTO_ESCALATION',
  'SELF_REVIEW_DELEGATION',
]);

/** LookupStep: one hop of a reassignment chain. */
export const LookupStepSchema = z.looseObject({
  reassignedToId: z.string(),
  reassignedFromId: z.string(),
  reassignmentType: ReassignmentTypeReadSchema.nullish(),
});
export type LookupStep = z.infer<typeof LookupStepSchema>;

/** EvaluateResponse. */
export const EvaluateResponseSchema = z.looseObject({
  reassignToId: z.string(),
  lookupTrail: z
    .array(LookupStepSchema)
    .nullish()
    .transform((v) => v ?? []),
});
export type EvaluateResponse = z.infer<typeof EvaluateResponseSchema>;

/**
 * GET /beta/reassignment-configurations/{identityId}/evaluate/{configType}: where work of this type
 * sent to the identity lands now, following configurations up to depth 5. The spec's schema says an
 * array of EvaluateResponse while its examples show one object: both are accepted. No configuration
 * (or an empty array) means the work stays with the identity: `{ reassignToId: identityId, lookupTrail: [] }`.
 */
export async function evaluateReassignmentConfiguration(
  client: SailPointTransport,
  identityId: string,
  configType: ConfigType,
  options: { exclusionFilters?: readonly string[] } = {},
): Promise<EvaluateResponse> {
  const result = await client.send({
    operation: 'getEvaluateReassignmentConfiguration',
    method: 'GET',
    path: `/beta/reassignment-configurations/${encodeURIComponent(identityId)}/evaluate/${encodeURIComponent(configType)}`,
    query: {
      exclusionFilters: options.exclusionFilters?.length ? options.exclusionFilters.join(',') : undefined,
    },
    responseSchema: z.union([EvaluateResponseSchema, z.array(EvaluateResponseSchema)]),
  });
  const evaluated = Array.isArray(result) ? result[0] : result;
  return evaluated ?? { reassignToId: identityId, lookupTrail: [] };
}

/** ConfigType: a work type as the Reassignment Configuration UI lists it. */
export const ReassignmentConfigTypeSchema = z.looseObject({
  priority: z.number().nullish(),
  /** The spec names the camel-case value `internalName` and the upper-case one `internalNameCamel`. */
  internalName: z.string().nullish(),
  internalNameCamel: z.string().nullish(),
  displayName: z.string().nullish(),
  description: z.string().nullish(),
});
export type ReassignmentConfigTypeInfo = z.infer<typeof ReassignmentConfigTypeSchema>;

/** GET /beta/reassignment-configurations/types. */
export async function listReassignmentConfigTypes(
  client: SailPointTransport,
): Promise<ReassignmentConfigTypeInfo[]> {
  return client.send({
    operation: 'getReassignmentConfigTypes',
    method: 'GET',
    path: '/beta/reassignment-configurations/types',
    responseSchema: z.array(ReassignmentConfigTypeSchema),
  });
}
