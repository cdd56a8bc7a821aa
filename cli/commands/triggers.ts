/**
 * `iga triggers subscribe`: the ISC event-trigger subscriptions this deployment consumes, created
 * through /beta/trigger-subscriptions (type EVENTBRIDGE, your AWS account and region) with the
 * recommended JSONPath filters, idempotently: a trigger that already has an EVENTBRIDGE subscription
 * to the same account and region is left as it is (a different filter is reported, not changed).
 * Prints each partner event source, the value for `igaAutopilot.eventTriggers.sources.<trigger>`.
 * Recommended filters: Identity Attributes Changed → the mapped attributes; Access Request Decision →
 * items carrying this product's item marker; Provisioning Completed → provisioning requested by the
 * access workflow's identity (`--requester`; without it, none).
 *
 * The SailPoint credential (ORG_ADMIN, sp:trigger-service-subscriptions:manage) comes from the
 * environment as the functions read it (SAILPOINT_TENANT or SAILPOINT_API_URL, SAILPOINT_CLIENT_ID,
 * SAILPOINT_CLIENT_SECRET); with --local, the local stack's sandbox tenant.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ITEM_MARKER_KEY } from '../../functions/access-provisioning/coalesce';
import {
  AbsenceAttributeMappingSchema,
  recommendedAttributeFilter,
  type AbsenceAttributeMapping,
} from '../../functions/event-triggers/absence-mapping';
import { describeIssues } from '../../functions/event-triggers/payloads';
import {
  HANDLED_TRIGGERS,
  partnerEventSourceName,
  TRIGGER_KEYS,
  TRIGGERS,
  type TriggerKey,
} from '../../functions/event-triggers/triggers';
import {
  createEventBridgeSubscription,
  listTriggerSubscriptions,
  type SailPointTransport,
  type Subscription,
} from '../../functions/shared/sailpoint';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint/from-settings';
import { withJson, type CommandContext } from '../context';
import { CliError, line, printJson, printTable } from '../io';

export interface SubscribeOptions {
  readonly awsAccount: string;
  readonly awsRegion: string;
  readonly triggers: readonly TriggerKey[];
  /** Needed for identityAttributesChanged: its filter sends only changes of the mapped attributes. */
  readonly absenceMapping?: AbsenceAttributeMapping;
  /**
   * The identity the access workflow's credential acts as (its PAT's owner): Provisioning Completed is
   * filtered to the provisioning it requested. Unset: no filter for that trigger.
   */
  readonly requesterId?: string;
  readonly dryRun?: boolean;
}

/**
 * Access Request Decision: only decisions on items this product requested (every item it sends carries
 * `clientMetadata.igaAutopilotItem`). Written so that Jayway (ISC) and jsonpath-plus (the sandbox) agree
 * on items without metadata.
 */
export const ACCESS_DECISION_FILTER = `$.requestedItemsStatus[?(@.clientMetadata && @.clientMetadata.${ITEM_MARKER_KEY})]`;

/** Provisioning Completed carries no item metadata: only provisioning the access workflow's identity requested. */
export function provisioningFilter(requesterId: string): string {
  return `$[?($.requester && $.requester.id == ${JSON.stringify(requesterId)})]`;
}

export interface SubscribeResult {
  readonly trigger: TriggerKey;
  readonly status: 'created' | 'exists' | 'exists, filter differs' | 'would create';
  readonly subscriptionId?: string;
  readonly filter?: string;
  /** The partner event source ISC creates for the subscription (unknown before it exists). */
  readonly source?: string;
}

/** The recommended filter of each trigger (none: every event of the trigger matters). */
export function recommendedFilter(
  trigger: TriggerKey,
  mapping?: AbsenceAttributeMapping,
  requesterId?: string,
): string | undefined {
  switch (trigger) {
    case 'identityAttributesChanged':
      if (!mapping)
        throw new CliError(
          'identityAttributesChanged needs --absence-mapping (its filter names the attributes)',
        );
      return recommendedAttributeFilter(mapping);
    case 'accessRequestDecision':
      return ACCESS_DECISION_FILTER;
    case 'provisioningCompleted':
      return requesterId ? provisioningFilter(requesterId) : undefined;
    default:
      return undefined;
  }
}

export async function subscribeTriggers(
  client: SailPointTransport,
  options: SubscribeOptions,
): Promise<SubscribeResult[]> {
  const existing = await listTriggerSubscriptions(client, 'type eq "EVENTBRIDGE"');
  const results: SubscribeResult[] = [];
  for (const trigger of options.triggers) {
    const { id: triggerId, name } = TRIGGERS[trigger];
    const filter = recommendedFilter(trigger, options.absenceMapping, options.requesterId);
    const found = existing.find(
      (s: Subscription) =>
        s.triggerId === triggerId &&
        s.eventBridgeConfig?.awsAccount === options.awsAccount &&
        s.eventBridgeConfig?.awsRegion === options.awsRegion,
    );
    if (found) {
      results.push({
        trigger,
        status: (found.filter ?? undefined) === filter ? 'exists' : 'exists, filter differs',
        subscriptionId: found.id,
        ...(found.filter ? { filter: found.filter } : {}),
        source: partnerEventSourceName(found.id, trigger),
      });
      continue;
    }
    if (options.dryRun) {
      results.push({ trigger, status: 'would create', ...(filter ? { filter } : {}) });
      continue;
    }
    const created = await createEventBridgeSubscription(client, {
      // Names are unique in a tenant: one per trigger and AWS destination.
      name: `IGA Autopilot: ${name} → ${options.awsAccount} ${options.awsRegion}`,
      description: 'Consumed by IGA Autopilot (docs/event-triggers.md)',
      triggerId,
      awsAccount: options.awsAccount,
      awsRegion: options.awsRegion,
      ...(filter ? { filter } : {}),
    });
    results.push({
      trigger,
      status: 'created',
      subscriptionId: created.id,
      ...(filter ? { filter } : {}),
      source: partnerEventSourceName(created.id, trigger),
    });
  }
  return results;
}

function parseTriggers(text: string): TriggerKey[] {
  const keys = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const key of keys) {
    if (!HANDLED_TRIGGERS.includes(key as TriggerKey)) {
      const known = TRIGGER_KEYS.includes(key as TriggerKey);
      throw new CliError(
        `${key}: ${known ? 'not handled by this version yet' : 'unknown trigger'}; choose from ${HANDLED_TRIGGERS.join(', ')}`,
      );
    }
  }
  return keys as TriggerKey[];
}

/** JSON text, or @file holding it. */
function parseMapping(text: string): AbsenceAttributeMapping {
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text);
  } catch (error) {
    throw new CliError(
      `--absence-mapping: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const parsed = AbsenceAttributeMappingSchema.safeParse(json);
  if (!parsed.success) throw new CliError(`--absence-mapping: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function registerTriggers(program: Command, ctx: CommandContext): void {
  const triggers = program
    .command('triggers')
    .description('ISC event triggers: subscriptions through EventBridge');
  withJson(
    triggers
      .command('subscribe')
      .description('create the EVENTBRIDGE subscriptions this deployment consumes (idempotent)')
      .requiredOption('--aws-account <id>', 'the 12-digit AWS account that receives the events')
      .requiredOption('--aws-region <region>', 'its region, e.g. eu-central-1')
      .option('--triggers <list>', `comma-separated (default ${HANDLED_TRIGGERS.join(',')})`)
      .option(
        '--absence-mapping <json|@file>',
        'the absence attribute mapping (as igaAutopilot.eventTriggers.absenceMapping)',
      )
      .option(
        '--requester <identity id>',
        "the identity of the access workflow's SailPoint credential (its PAT's owner): Provisioning Completed is filtered to what it requested",
      )
      .option('--dry-run', 'only say what would be created'),
  ).action(
    async (
      options: {
        awsAccount: string;
        awsRegion: string;
        triggers?: string;
        absenceMapping?: string;
        requester?: string;
        dryRun?: boolean;
        json?: boolean;
      },
      command: Command,
    ) => {
      if (!/^\d{12}$/.test(options.awsAccount))
        throw new CliError('--aws-account: must be a 12-digit AWS account id');
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.awsRegion))
        throw new CliError('--aws-region: must be an AWS region such as eu-central-1');
      const chosen = options.triggers ? parseTriggers(options.triggers) : [...HANDLED_TRIGGERS];
      const mapping = options.absenceMapping ? parseMapping(options.absenceMapping) : undefined;
      if (options.requester !== undefined && !/^[0-9a-f]{32}$/i.test(options.requester))
        throw new CliError('--requester: must be a SailPoint identity id (32 hexadecimal characters)');
      // Only SailPoint is needed: the local stack's sandbox with --local, else the environment's tenant.
      const local = (command.optsWithGlobals() as { local?: boolean }).local === true;
      const client = await createSailPointClientFromEnv(
        local ? (await ctx.target()).sailPointEnv() : process.env,
      );
      const results = await subscribeTriggers(client, {
        awsAccount: options.awsAccount,
        awsRegion: options.awsRegion,
        triggers: chosen,
        ...(mapping ? { absenceMapping: mapping } : {}),
        ...(options.requester ? { requesterId: options.requester } : {}),
        dryRun: options.dryRun === true,
      });
      if (options.json) {
        printJson(ctx.io, results);
        return;
      }
      printTable(
        ctx.io,
        ['TRIGGER', 'SUBSCRIPTION', 'STATUS', 'FILTER'],
        results.map((r) => [TRIGGERS[r.trigger].id, r.subscriptionId, r.status, r.filter ?? '(none)']),
      );
      const sources = results.filter((r) => r.source);
      if (sources.length > 0) {
        line(ctx.io);
        line(
          ctx.io,
          'Partner event sources (associate each with an event bus: docs/event-triggers.md), as stack settings:',
        );
        for (const r of sources)
          line(ctx.io, `  -c igaAutopilot.eventTriggers.sources.${r.trigger}=${r.source}`);
      }
    },
  );
}
