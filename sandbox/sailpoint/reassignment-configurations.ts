/**
 * Work reassignment (ops-beta.yaml, tag "Work Reassignment"):
 * - GET    /beta/reassignment-configurations/types                          the three work types
 * - GET    /beta/reassignment-configurations?limit&offset                   identities with configurations
 * - POST   /beta/reassignment-configurations                                create (201)
 * - GET    /beta/reassignment-configurations/{identityId}                   one identity's configurations
 * - PUT    /beta/reassignment-configurations/{identityId}                   replace one work type (200)
 * - DELETE /beta/reassignment-configurations/{identityId}/{configType}      204, 404 when none
 * - GET    /beta/reassignment-configurations/{identityId}/evaluate/{type}   where work lands now
 * All are userAuth: a pure API client gets 403.
 *
 * Rules, and where they come from (docs/absence-reassignment.md has the details):
 * - One configuration per identity and work type (SailPoint "Configuring Work Reassignment": "Only
 *   one reassignment configuration per work item type can exist at a time").
 * - Reassigning to oneself is refused (400), as are loops: ISC "prevents users from creating loops in
 *   reassignment chains … an error message lists all the users in the sequence" (user help). The
 *   sandbox follows the target's configurations of the same type whose windows overlap the new one.
 * - POST over an existing configuration of the same identity and type whose window overlaps the
 *   new one is refused (400); the docs only describe the UI, where a new one replaces the old, and
 *   say nothing of the API, so the sandbox takes the strict reading: replacing is what PUT is for.
 *   An existing configuration whose window does not overlap is replaced (one per type).
 * - endDate must be after startDate and in the future; no startDate means now; null endDate means
 *   permanent, answered as the zero time '0001-01-01T00:00:00Z' as in the spec's example.
 * - Evaluate follows configurations active now, up to depth 5, and answers an array of one
 *   EvaluateResponse (the spec's schema; its examples show a bare object).
 */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { Caller, SandboxContext } from '../context';
import type { SandboxReassignment, SandboxState } from '../state';
import { requireUserContext } from './auth';
import { SailpointError, sailpointError } from './errors';

type ConfigType = SandboxReassignment['configType'];
const CONFIG_TYPES = [
  'ACCESS_REQUESTS',
  'CERTIFICATIONS',
  'MANUAL_TASKS',
] as const satisfies readonly ConfigType[];
const CAMEL: Record<ConfigType, string> = {
  ACCESS_REQUESTS: 'accessRequests',
  CERTIFICATIONS: 'certifications',
  MANUAL_TASKS: 'manualTasks',
};
/** As GET /types answers (ConfigType; the spec swaps internalName and internalNameCamel). */
const TYPE_INFO = [
  ['ACCESS_REQUESTS', 'Access Requests', 'Reassign Access Request Work Items for an identity'],
  ['CERTIFICATIONS', 'Certifications', 'Reassign Certification Work Items for an identity'],
  ['MANUAL_TASKS', 'Manual Tasks', 'Reassign Manual Provisioning Tasks for an identity'],
] as const;

export const PERMANENT_END_DATE = '0001-01-01T00:00:00Z';
const MAX_EVALUATE_DEPTH = 5;

const DateTime = z
  .string()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)),
    'must be an ISO-8601 date-time',
  );

const ConfigurationItemRequest = z.looseObject({
  reassignedFromId: z.string({ error: 'is required' }).min(1, 'is required'),
  reassignedToId: z.string({ error: 'is required' }).min(1, 'is required'),
  configType: z.enum(CONFIG_TYPES, { error: `must be one of ${CONFIG_TYPES.join(', ')}` }),
  startDate: DateTime.nullish(),
  endDate: DateTime.nullish(),
});

const ListQuery = z.looseObject({
  limit: z.coerce.number().int().min(0).max(20).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

function parseConfigType(value: string): ConfigType {
  const type = CONFIG_TYPES.find((t) => t === value || CAMEL[t] === value);
  if (!type) throw new SailpointError(400, `configType must be one of ${CONFIG_TYPES.join(', ')}`);
  return type;
}

interface Window {
  start: number;
  end: number;
}

function windowOf(config: Pick<SandboxReassignment, 'startDate' | 'endDate'>): Window {
  return {
    start: Date.parse(config.startDate),
    end: config.endDate === null ? Number.POSITIVE_INFINITY : Date.parse(config.endDate),
  };
}

const overlaps = (a: Window, b: Window) => a.start < b.end && b.start < a.end;

function identityRef(state: SandboxState, id: string): { id: string; name: string } {
  const identity = state.identities.get(id);
  return { id, name: identity?.displayName ?? id };
}

function callerRef(state: SandboxState, caller: Caller & { identityId: string }) {
  return identityRef(state, caller.identityId);
}

/** ConfigurationResponse / ConfigurationItemResponse for one identity. */
function configurationResponse(state: SandboxState, identityId: string) {
  const configs = state.reassignments.get(identityId);
  return {
    identity: identityRef(state, identityId),
    configDetails: CONFIG_TYPES.flatMap((type) => {
      const config = configs?.get(type);
      if (!config) return [];
      return [
        {
          configType: config.configType,
          targetIdentity: identityRef(state, config.targetId),
          startDate: config.startDate,
          endDate: config.endDate ?? PERMANENT_END_DATE,
          auditDetails: {
            created: config.created,
            createdBy: { ...config.createdBy },
            modified: config.modified,
            modifiedBy: { ...config.modifiedBy },
          },
        },
      ];
    }),
  };
}

/** Validates a ConfigurationItemRequest against the tenant; returns the configuration to store. */
function validate(
  ctx: SandboxContext,
  body: unknown,
  caller: Caller & { identityId: string },
  existing: SandboxReassignment | undefined,
): SandboxReassignment {
  const request = ConfigurationItemRequest.parse(body);
  const { state } = ctx;
  const now = ctx.now();
  for (const [field, id] of [
    ['reassignedFromId', request.reassignedFromId],
    ['reassignedToId', request.reassignedToId],
  ] as const) {
    if (!state.identities.has(id)) throw new SailpointError(400, `${field}: identity ${id} was not found.`);
  }
  if (request.reassignedFromId === request.reassignedToId) {
    throw new SailpointError(400, 'An identity cannot reassign work to itself.');
  }
  const startDate = new Date(request.startDate ?? now).toISOString();
  const endDate = request.endDate ? new Date(request.endDate).toISOString() : null;
  if (endDate !== null && Date.parse(endDate) <= Date.parse(startDate)) {
    throw new SailpointError(400, 'endDate must be after startDate.');
  }
  if (endDate !== null && Date.parse(endDate) <= now.getTime()) {
    throw new SailpointError(400, 'endDate must be in the future.');
  }
  const window = windowOf({ startDate, endDate });
  const loop = findLoop(state, request.reassignedFromId, request.reassignedToId, request.configType, window);
  if (loop) {
    const names = loop.map((id) => identityRef(state, id).name);
    throw new SailpointError(
      400,
      `This reassignment would create a loop in the reassignment chain: ${names.join(' → ')}.`,
      undefined,
      loop.map((id) => `${identityRef(state, id).name} (${id})`),
    );
  }
  const stamp = now.toISOString();
  const by = callerRef(state, caller);
  return {
    configType: request.configType,
    targetId: request.reassignedToId,
    startDate,
    endDate,
    created: existing?.created ?? stamp,
    createdBy: existing?.createdBy ?? by,
    modified: stamp,
    modifiedBy: by,
  };
}

/** The chain from → to → … back to `from`, through configurations overlapping `window`; undefined when none. */
function findLoop(
  state: SandboxState,
  fromId: string,
  toId: string,
  type: ConfigType,
  window: Window,
): string[] | undefined {
  const chain = [fromId, toId];
  const seen = new Set(chain);
  let current = toId;
  for (;;) {
    const next = state.reassignments.get(current)?.get(type);
    if (!next || !overlaps(windowOf(next), window)) return undefined;
    chain.push(next.targetId);
    if (next.targetId === fromId) return chain;
    if (seen.has(next.targetId)) return undefined; // an older loop not involving `from`
    seen.add(next.targetId);
    current = next.targetId;
  }
}

function store(state: SandboxState, identityId: string, config: SandboxReassignment): void {
  let configs = state.reassignments.get(identityId);
  if (!configs) state.reassignments.set(identityId, (configs = new Map()));
  configs.set(config.configType, config);
}

function isActive(config: SandboxReassignment, at: number): boolean {
  const { start, end } = windowOf(config);
  return start <= at && at < end;
}

export function registerReassignmentConfigurationRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  app.get('/beta/reassignment-configurations/types', async (request) => {
    requireUserContext(request);
    return TYPE_INFO.map(([type, displayName, description], index) => ({
      priority: index + 1,
      internalName: CAMEL[type],
      internalNameCamel: type,
      displayName,
      description,
    }));
  });

  app.get('/beta/reassignment-configurations', async (request) => {
    requireUserContext(request);
    const { limit, offset } = ListQuery.parse(request.query);
    return [...state.reassignments.entries()]
      .filter(([, configs]) => configs.size > 0)
      .map(([identityId]) => identityId)
      .sort()
      .slice(offset, offset + limit)
      .map((identityId) => configurationResponse(state, identityId));
  });

  app.post('/beta/reassignment-configurations', async (request, reply) => {
    const caller = requireUserContext(request);
    const config = validate(ctx, request.body, caller, undefined);
    const fromId = (request.body as { reassignedFromId: string }).reassignedFromId;
    const existing = state.reassignments.get(fromId)?.get(config.configType);
    if (existing && overlaps(windowOf(existing), windowOf(config))) {
      throw new SailpointError(
        400,
        `Identity ${identityRef(state, fromId).name} already has a ${config.configType} reassignment ` +
          `(${existing.startDate} to ${existing.endDate ?? 'no end date'}) overlapping this one; ` +
          'update it (PUT) or delete it first.',
      );
    }
    store(state, fromId, config);
    return reply.code(201).send(configurationResponse(state, fromId));
  });

  app.get<{ Params: { identityId: string } }>(
    '/beta/reassignment-configurations/:identityId',
    async (request, reply) => {
      requireUserContext(request);
      const { identityId } = request.params;
      if (!state.identities.has(identityId)) {
        return sailpointError(reply, 404, undefined, `Identity ${identityId} was not found.`);
      }
      return configurationResponse(state, identityId);
    },
  );

  app.put<{ Params: { identityId: string } }>(
    '/beta/reassignment-configurations/:identityId',
    async (request, reply) => {
      const caller = requireUserContext(request);
      const { identityId } = request.params;
      if (!state.identities.has(identityId)) {
        return sailpointError(reply, 404, undefined, `Identity ${identityId} was not found.`);
      }
      const body = ConfigurationItemRequest.parse(request.body);
      if (body.reassignedFromId !== identityId) {
        throw new SailpointError(400, 'reassignedFromId must be the identity of the path.');
      }
      const existing = state.reassignments.get(identityId)?.get(body.configType);
      store(state, identityId, validate(ctx, body, caller, existing));
      return configurationResponse(state, identityId);
    },
  );

  app.delete<{ Params: { identityId: string; configType: string } }>(
    '/beta/reassignment-configurations/:identityId/:configType',
    async (request, reply) => {
      requireUserContext(request);
      const { identityId } = request.params;
      const type = parseConfigType(request.params.configType);
      if (!state.reassignments.get(identityId)?.delete(type)) {
        return sailpointError(
          reply,
          404,
          undefined,
          `No ${type} reassignment configuration for identity ${identityId}.`,
        );
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { identityId: string; configType: string } }>(
    '/beta/reassignment-configurations/:identityId/evaluate/:configType',
    async (request, reply) => {
      requireUserContext(request);
      const { identityId } = request.params;
      const type = parseConfigType(request.params.configType);
      if (!state.identities.has(identityId)) {
        return sailpointError(reply, 404, undefined, `Identity ${identityId} was not found.`);
      }
      const at = ctx.now().getTime();
      const lookupTrail: { reassignedToId: string; reassignedFromId: string; reassignmentType: string }[] =
        [];
      const seen = new Set([identityId]);
      let current = identityId;
      while (lookupTrail.length < MAX_EVALUATE_DEPTH) {
        const config = state.reassignments.get(current)?.get(type);
        if (!config || !isActive(config, at)) break;
        lookupTrail.push({
          reassignedToId: config.targetId,
          reassignedFromId: current,
          reassignmentType: 'AUTOMATIC_REASSIGNMENT',
        });
        current = config.targetId;
        if (seen.has(current)) break;
        seen.add(current);
      }
      return [{ reassignToId: current, lookupTrail }];
    },
  );
}
