/**
 * The deployed stack's defaults, derived the way the stack derives them (lib/stack-config.ts and
 * lib/function-environment.ts), so the benchmarks run what a default deployment runs.
 */
import { visibilityTimeoutSeconds } from '../../lib/constructs/work-queue';
import { instancesSharingCredential, perInstanceSailPointBudget } from '../../lib/function-environment';
import { stackConfigSchema } from '../../lib/stack-config';

/** A default deployment's shape for access provisioning. */
function accessShape() {
  // The tenant and secret names only satisfy the schema; nothing is called.
  const config = stackConfigSchema.parse({
    sailPoint: { tenant: 'bench' },
  });
  const access = config.accessProvisioning;
  return {
    /** sailPoint.requestsPer10s: the budget of one credential (client id) over every instance using it. */
    requestsPer10s: config.sailPoint.requestsPer10s,
    /** How many instances share access provisioning's credential (by default one credential for all:
     *  sweep, access, absence + its re-check): each is guaranteed perInstanceBudget, and all draw on
     *  requestsPer10s through the shared schedule (functions/shared/sailpoint/shared-budget.ts). */
    sailPointCallers: instancesSharingCredential(config, 'accessProvisioning'),
    /** SAILPOINT_REQUESTS_PER_10S of each access-provisioning instance. */
    perInstanceBudget: perInstanceSailPointBudget(config, 'accessProvisioning'),
    maxConcurrency: access.maxConcurrency,
    batchSize: access.batchSize,
    timeoutSeconds: access.timeoutSeconds,
    maxBatchingWindowSeconds: access.maxBatchingWindowSeconds,
    /** The stack's queue visibility timeout (6 × function timeout + batching window). */
    visibilityTimeoutSeconds: visibilityTimeoutSeconds(
      access.timeoutSeconds,
      access.maxBatchingWindowSeconds,
    ),
    maxReceiveCount: config.queues.maxReceiveCount,
  } as const;
}

/** A default deployment: one credential shared by every SailPoint workflow. */
export const STACK_DEFAULTS = accessShape();
