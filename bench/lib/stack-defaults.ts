/**
 * The deployed stack's defaults, derived the way the stack derives them (lib/stack-config.ts and
 * lib/function-environment.ts), so the benchmarks run what a default deployment runs.
 */
import { visibilityTimeoutSeconds } from '../../lib/constructs/work-queue';
import { instancesSharingCredential, perInstanceSailPointBudget } from '../../lib/function-environment';
import { stackConfigSchema } from '../../lib/stack-config';

/** A deployment's shape for access provisioning; `ownCredential`: with accessProvisioning.credentialsSecret set. */
function accessShape(ownCredential: boolean) {
  // The tenant and secret names only satisfy the schema; nothing is called.
  const config = stackConfigSchema.parse({
    sailPoint: { tenant: 'bench' },
    ...(ownCredential
      ? { accessProvisioning: { credentialsSecret: 'iga-autopilot/access-provisioning' } }
      : {}),
  });
  const access = config.accessProvisioning;
  return {
    /** sailPoint.requestsPer10s: the budget of one credential (client id) over every instance using it. */
    requestsPer10s: config.sailPoint.requestsPer10s,
    /** How many instances share access provisioning's credential (by default one credential for all:
     *  sweep, access, absence + its re-check; with its own credential, its own instances only). */
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
export const STACK_DEFAULTS = accessShape(false);

/** The defaults with access provisioning given its own credential (docs/deployment.md, "Rate budget"). */
export const OWN_CREDENTIAL = accessShape(true);
