/**
 * Every environment variable of the access-provisioning function (the CDK stack sets them; see
 * docs/access-provisioning.md). SailPoint connection settings come from the shared schema.
 */
import * as z from 'zod';
import { parseSettings, queueSettings, sailPointSettings, setting, type Env } from '../shared/config';
import type { ProcessorSettings } from './batch';

export const accessProvisioningSettings = sailPointSettings.extend(queueSettings.shape).extend({
  /** The accessRequests table (functions/shared/tables.ts). */
  ACCESS_REQUESTS_TABLE: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  /** SNS topic for operator notices (a message SailPoint refused or that gave up); unset: log only. */
  NOTIFICATIONS_TOPIC_ARN: z.string().min(1).optional(),
  /** A unit submitted within this window is a duplicate and costs no SailPoint call. */
  DEDUP_WINDOW_HOURS: setting.integer(168, { min: 1, max: 24 * 365 }),
  /** How long a claim keeps other messages off a unit; keep it above the function timeout. */
  CLAIM_LEASE_SECONDS: setting.integer(900, { min: 30, max: 43_200 }),
  /** How long SailPoint may take to list an accepted request in /access-request-status. */
  STATUS_SETTLE_SECONDS: setting.integer(60, { min: 0, max: 3_600 }),
  /** Retry delay of a GRANT waiting for a REVOKE of the same access to finish (and vice versa). */
  CONFLICT_RETRY_SECONDS: setting.integer(300, { min: 0, max: 43_200 }),
  /**
   * With ISC's Access Request Decision and Provisioning Completed triggers configured (the stack sets
   * it then): how long after the opposite request of the same access was sent the later one waits for
   * their events without reading /access-request-status; after that it reads the status (the fallback
   * for an event that never arrived). 0: no event triggers, the status is read at once.
   */
  ACCESS_EVENTS_WAIT_SECONDS: setting.integer(0, { min: 0, max: 14 * 86_400 }),
  /**
   * How soon a message whose unit is in flight in another message's attempt looks again (it is put
   * back uncharged; the look costs a DynamoDB read, no SailPoint call).
   */
  IN_FLIGHT_RETRY_SECONDS: setting.integer(10, { min: 0, max: 900 }),
  /** Retry delay after a 5xx, timeout or other transient failure. */
  TRANSIENT_RETRY_SECONDS: setting.integer(30, { min: 0, max: 43_200 }),
  /** Cap on a Retry-After used as a message's retry delay. */
  MAX_RETRY_AFTER_SECONDS: setting.integer(900, { min: 1, max: 43_200 }),
  /**
   * Units (identities × items) one message may ask for; a larger message is dead-lettered before
   * anything is claimed. Keeps a message's work and its outcome record bounded.
   */
  MAX_UNITS_PER_MESSAGE: setting.integer(250, { min: 1, max: 1_000 }),
  /**
   * Items per access request (entitlements: at most 25, SailPoint's limit). Without entitlements the
   * API states no limit; this keeps one refused request from affecting too many units.
   */
  MAX_ITEMS_PER_REQUEST: setting.integer(25, { min: 1, max: 100 }),
  /** Recipients per GRANT request without entitlements (with entitlements SailPoint allows 10). */
  MAX_RECIPIENTS_PER_REQUEST: setting.integer(50, { min: 1, max: 1_000 }),
  /**
   * How long a message naming an identity Search does not know is retried (with backoff, counted from
   * when it was sent) before it is dead-lettered as naming an unknown identity: a new identity shows
   * in Search minutes after it is created. Needs MAX_RECEIVE_COUNT > 1 to wait at all.
   */
  UNKNOWN_IDENTITY_RETRY_MINUTES: setting.integer(20, { min: 0, max: 24 * 60 }),
  /** Days an outcome record ("what happened to request X") is kept. */
  OUTCOME_RETENTION_DAYS: setting.integer(30, { min: 1, max: 3_650 }),
  /** Identities whose current access one Search call reads (POST /v3/search: one page per call). */
  SEARCH_IDENTITIES_PER_CALL: setting.integer(250, { min: 1, max: 800 }),
  /** Parallel SailPoint calls and DynamoDB writes within one batch. */
  BATCH_CONCURRENCY: setting.integer(8, { min: 1, max: 64 }),
  /** No SailPoint call starts with less than this left of the invocation; the rest is retried. */
  TIME_RESERVE_SECONDS: setting.integer(10, { min: 0, max: 600 }),
  /**
   * SailPoint requests per 10 s the whole deployment of this function may make with its client id
   * (SailPoint allows 100 per client id and API version). 0: no client-side limit.
   */
  SAILPOINT_RATE_BUDGET_PER_10S: setting.integer(80, { min: 0, max: 10_000 }),
  /** The event source mapping's maximum concurrency (the stack sets both from one value). */
  ACCESS_MAX_CONCURRENCY: setting.integer(2, { min: 2, max: 1_000 }),
});

export type AccessProvisioningSettings = z.infer<typeof accessProvisioningSettings>;

export function loadAccessProvisioningSettings(env: Env = process.env): AccessProvisioningSettings {
  return parseSettings(accessProvisioningSettings, env);
}

/**
 * The rate one instance plans its chunks for. With the shared budget (SAILPOINT_RATE_BUDGET_TABLE and
 * SAILPOINT_CREDENTIAL_REQUESTS_PER_10S): the credential's budget over this queue's instances — what
 * it gets while the other workflows are idle, so a backlog is coalesced in large chunks; if they are
 * busy, what a chunk cannot send before the deadline goes back uncharged. Otherwise the instance's own
 * limit: an explicit SAILPOINT_REQUESTS_PER_10S, else the deployment budget over ACCESS_MAX_CONCURRENCY.
 */
export function perInstanceRequestsPer10s(settings: AccessProvisioningSettings): number {
  if (settings.SAILPOINT_RATE_BUDGET_TABLE && settings.SAILPOINT_CREDENTIAL_REQUESTS_PER_10S > 0) {
    return sharedBudgetPlanningRate(
      settings.SAILPOINT_CREDENTIAL_REQUESTS_PER_10S,
      settings.ACCESS_MAX_CONCURRENCY,
    );
  }
  if (settings.SAILPOINT_REQUESTS_PER_10S > 0) return settings.SAILPOINT_REQUESTS_PER_10S;
  if (settings.SAILPOINT_RATE_BUDGET_PER_10S === 0) return 0;
  return Math.max(1, Math.floor(settings.SAILPOINT_RATE_BUDGET_PER_10S / settings.ACCESS_MAX_CONCURRENCY));
}

/** Requests per 10 s one of `instances` plans for when they draw on a shared `credentialPer10s`. */
export function sharedBudgetPlanningRate(credentialPer10s: number, instances: number): number {
  return Math.max(1, Math.floor(credentialPer10s / instances));
}

export function processorSettings(settings: AccessProvisioningSettings): ProcessorSettings {
  return {
    dedupWindowMs: settings.DEDUP_WINDOW_HOURS * 3_600_000,
    claimLeaseMs: settings.CLAIM_LEASE_SECONDS * 1000,
    statusSettleMs: settings.STATUS_SETTLE_SECONDS * 1000,
    conflictRetrySeconds: settings.CONFLICT_RETRY_SECONDS,
    ...(settings.ACCESS_EVENTS_WAIT_SECONDS > 0
      ? { eventWaitMs: settings.ACCESS_EVENTS_WAIT_SECONDS * 1000 }
      : {}),
    transientRetrySeconds: settings.TRANSIENT_RETRY_SECONDS,
    inFlightRetrySeconds: settings.IN_FLIGHT_RETRY_SECONDS,
    maxRetryAfterSeconds: settings.MAX_RETRY_AFTER_SECONDS,
    maxRecipients: settings.MAX_RECIPIENTS_PER_REQUEST,
    maxItems: settings.MAX_ITEMS_PER_REQUEST,
    maxUnitsPerMessage: settings.MAX_UNITS_PER_MESSAGE,
    unknownIdentityWindowMs: settings.UNKNOWN_IDENTITY_RETRY_MINUTES * 60_000,
    outcomeRetentionMs: settings.OUTCOME_RETENTION_DAYS * 86_400_000,
    maxReceiveCount: settings.MAX_RECEIVE_COUNT,
    concurrency: settings.BATCH_CONCURRENCY,
    identitiesPerSearch: settings.SEARCH_IDENTITIES_PER_CALL,
    timeReserveMs: settings.TIME_RESERVE_SECONDS * 1000,
    requestsPer10s: perInstanceRequestsPer10s(settings),
  };
}

/** The defaults, for tests and local runs that build the workflow without an environment. */
export const DEFAULT_PROCESSOR_SETTINGS: ProcessorSettings = processorSettings(
  accessProvisioningSettings.parse({
    ACCESS_REQUESTS_TABLE: 'unused',
    QUEUE_URL: 'http://localhost/queue',
    DEAD_LETTER_QUEUE_URL: 'http://localhost/dlq',
  }),
);
