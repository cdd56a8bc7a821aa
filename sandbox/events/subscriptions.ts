/**
 * Trigger subscriptions, as paths-trigger-subscriptions.yaml describes them (beta):
 * POST /beta/trigger-subscriptions (201 Subscription), GET /beta/trigger-subscriptions (list; `filters`
 * on id eq, triggerId eq, type eq; limit ≤ 250, offset, count), DELETE /beta/trigger-subscriptions/{id}
 * (204). Rights: `sp:trigger-service-subscriptions:manage` (user or application auth, ORG_ADMIN):
 * the sandbox lets ORG_ADMIN callers and tokens with that scope in.
 *
 * Checks from subscriptionpostrequest.yaml / eventbridgeconfig.yaml: name, triggerId and type are
 * required; EVENTBRIDGE needs eventBridgeConfig (12-digit awsAccount, awsRegion), HTTP needs httpConfig;
 * the filter must be JSONPath that evaluates. Sandbox choices: the trigger must be one the sandbox
 * emits (or Identity Created); names are unique; a fire-and-forget trigger takes up to 50 subscriptions.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { TRIGGERS } from '../../functions/event-triggers/triggers';
import { getCaller, type SandboxContext } from '../context';
import { type FilterSpec, compileFilter } from '../filters';
import { hasAuthority } from '../sailpoint/auth';
import { SailpointError } from '../sailpoint/errors';
import { booleanParam, integerParam } from '../sailpoint/params';
import { randomUUID } from 'node:crypto';
import { filterProblem } from './jsonpath-filter';
import type { SandboxSubscription } from './state';

/** Triggers the sandbox knows: the ones it emits, and Identity Created (accepted, never emitted). */
export const SANDBOX_TRIGGERS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(TRIGGERS).map((t) => [t.id, t.name])),
  'idn:identity-created': 'Identity Created',
};

const MAX_SUBSCRIPTIONS_PER_TRIGGER = 50;

const PostSchema = z.object({
  name: z.string({ error: 'is required' }).min(1, 'is required'),
  description: z.string().optional(),
  triggerId: z.string({ error: 'is required' }),
  type: z.enum(['HTTP', 'EVENTBRIDGE', 'INLINE', 'SCRIPT', 'WORKFLOW'], {
    error: 'must be one of HTTP, EVENTBRIDGE, INLINE, SCRIPT, WORKFLOW',
  }),
  responseDeadline: z.string().optional(),
  httpConfig: z.record(z.string(), z.unknown()).optional(),
  eventBridgeConfig: z
    .object({
      awsAccount: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account number'),
      awsRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-west-1'),
    })
    .optional(),
  enabled: z.boolean().default(true),
  filter: z.string().optional(),
});

function requireManageRight(request: FastifyRequest): void {
  const caller = getCaller(request);
  const scopes = caller.scope.split(/\s+/);
  if (hasAuthority(caller, 'ORG_ADMIN') || scopes.includes('sp:trigger-service-subscriptions:manage')) return;
  throw new SailpointError(
    403,
    'Managing trigger subscriptions requires sp:trigger-service-subscriptions:manage (ORG_ADMIN).',
    '403 Forbidden',
  );
}

function subscriptionBody(s: SandboxSubscription): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    triggerId: s.triggerId,
    triggerName: s.triggerName,
    type: s.type,
    ...(s.eventBridgeConfig ? { eventBridgeConfig: { ...s.eventBridgeConfig } } : {}),
    enabled: s.enabled,
    ...(s.filter === undefined ? {} : { filter: s.filter }),
  };
}

const LIST_FILTERS: FilterSpec<SandboxSubscription> = {
  id: { type: 'string', operators: ['eq'] },
  triggerId: { type: 'string', operators: ['eq'] },
  type: { type: 'string', operators: ['eq'] },
};

export function registerTriggerSubscriptionRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { subscriptions } = ctx.state.triggers;

  app.post('/beta/trigger-subscriptions', async (request: FastifyRequest, reply: FastifyReply) => {
    requireManageRight(request);
    const input = PostSchema.parse(request.body ?? {});
    const problems: string[] = [];
    const triggerName = SANDBOX_TRIGGERS[input.triggerId];
    if (!triggerName) problems.push(`triggerId: trigger ${input.triggerId} was not found`);
    if (input.type === 'EVENTBRIDGE' && !input.eventBridgeConfig)
      problems.push('eventBridgeConfig: is required for an EVENTBRIDGE subscription');
    if (input.type === 'HTTP' && !input.httpConfig)
      problems.push('httpConfig: is required for an HTTP subscription');
    if (input.filter !== undefined) {
      const problem = filterProblem(input.filter);
      if (problem) problems.push(`filter: ${problem}`);
    }
    if ([...subscriptions.values()].some((s) => s.name === input.name))
      problems.push(`name: a subscription named ${input.name} already exists`);
    const ofTrigger = [...subscriptions.values()].filter((s) => s.triggerId === input.triggerId).length;
    if (ofTrigger >= MAX_SUBSCRIPTIONS_PER_TRIGGER)
      problems.push(
        `triggerId: ${input.triggerId} already has ${MAX_SUBSCRIPTIONS_PER_TRIGGER} subscriptions`,
      );
    if (problems.length > 0) {
      throw new SailpointError(
        400,
        'The request was syntactically correct but its content is semantically invalid.',
        '400.1 Bad Request Content',
        problems,
      );
    }
    const subscription: SandboxSubscription = {
      id: randomUUID(),
      name: input.name,
      ...(input.description === undefined ? {} : { description: input.description }),
      triggerId: input.triggerId,
      triggerName: triggerName!,
      type: input.type,
      ...(input.eventBridgeConfig ? { eventBridgeConfig: { ...input.eventBridgeConfig } } : {}),
      enabled: input.enabled,
      ...(input.filter === undefined ? {} : { filter: input.filter }),
      created: ctx.now().toISOString(),
    };
    subscriptions.set(subscription.id, subscription);
    return reply.code(201).send(subscriptionBody(subscription));
  });

  app.get('/beta/trigger-subscriptions', async (request: FastifyRequest, reply: FastifyReply) => {
    requireManageRight(request);
    const q = request.query as Record<string, string | undefined>;
    const limit = integerParam(q.limit, 'limit', 0, 250, 250);
    const offset = integerParam(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const matches = compileFilter(q.filters, LIST_FILTERS);
    const all = [...subscriptions.values()].filter(matches);
    if (booleanParam(q.count, 'count')) reply.header('x-total-count', String(all.length));
    return all.slice(offset, offset + limit).map(subscriptionBody);
  });

  app.delete('/beta/trigger-subscriptions/:id', async (request: FastifyRequest, reply: FastifyReply) => {
    requireManageRight(request);
    const { id } = request.params as { id: string };
    if (!subscriptions.delete(id)) throw new SailpointError(404);
    return reply.code(204).send();
  });
}
