/**
 * One run of the Cognigy.AI credential audit:
 *
 *   1. GET /v2.0/users/me/acl, compared with the rights manifest (least-privilege.ts);
 *      over-privileged and missing scopes are recorded as `cognigy-privilege` findings.
 *   2. Preflight: anything needed missing → the run stops here; the key sweep (the Cognigy-dependent
 *      work) does not run and the outcome carries a CognigyPreflightError naming what is missing and
 *      the traceId.
 *   3. GET /v2.1/users/me/apikeys, reviewed by the age policy (api-key-policy.ts) and recorded as
 *      `cognigy-api-key` findings.
 *   4. Pending notifications delivered (once per change, see findings.ts and shared/findings).
 *
 * Safe to run twice, concurrently, or again after a crash at any step: findings are reconciled with
 * conditional writes and each notification is published by the one run that claimed it.
 */
import { randomUUID } from 'node:crypto';
import { getCurrentUserAcl, listOwnApiKeys, type CognigyApi } from '../shared/cognigy';
import {
  isOpen,
  type FindingChange,
  type FindingOwner,
  type FindingsStore,
  type Observation,
  type ReconcileResult,
} from '../shared/findings';
import type { Notifier } from '../shared/notifier';
import type { LogSink } from '../shared/observability';
import { identifyOwnKey, reviewApiKeys, type ApiKeyPolicy, type OwnKey } from './api-key-policy';
import {
  apiKeyObservations,
  API_KEY_SOURCE,
  notificationFor,
  PRIVILEGE_SOURCE,
  privilegeObservations,
} from './findings';
import {
  CognigyPreflightError,
  compareWithManifest,
  describeMissing,
  scopeLabel,
  type PrivilegeReport,
} from './least-privilege';
import type { RightsManifest } from './manifest';

export interface CognigyAuditDeps {
  readonly cognigy: CognigyApi;
  /** The key the client authenticates with; compared in memory with key previews, never logged. */
  readonly apiKey: string;
  /** COGNIGY_API_KEY_ID: identifies the automation's own key when previews cannot. */
  readonly apiKeyId?: string;
  readonly manifest: RightsManifest;
  readonly keyPolicy: ApiKeyPolicy;
  readonly findings: FindingsStore;
  readonly notifier: Notifier;
  readonly now: () => Date;
  readonly log: LogSink;
  readonly newRunId?: () => string;
  /** Who answers for the credential (COGNIGY_CREDENTIAL_OWNER): every finding names them. */
  readonly owner?: FindingOwner;
}

export interface FindingCounts {
  readonly opened: number;
  readonly escalated: number;
  readonly updated: number;
  readonly resolved: number;
  /** Open findings of the source after the run. */
  readonly open: number;
}

export interface CognigyAuditSummary {
  readonly runId: string;
  readonly trigger: string;
  readonly preflight: {
    readonly passed: boolean;
    readonly missing: readonly string[];
    readonly traceId?: string;
  };
  readonly privilege: {
    readonly overPrivileged: readonly {
      scope: string;
      extraRights: readonly string[];
      extraRoles: readonly string[];
    }[];
    readonly findings: FindingCounts;
  };
  readonly apiKeys:
    | {
        readonly checked: true;
        readonly total: number;
        readonly warned: number;
        readonly flagged: number;
        readonly multipleActive: boolean;
        readonly ownKey: OwnKey;
        readonly traceId?: string;
        readonly findings: FindingCounts;
      }
    | { readonly checked: false; readonly reason: string };
  readonly notifications: { readonly sent: number; readonly failed: number; readonly leftToOtherRun: number };
  /** Writes or deliveries that failed; the run should be reported as failed (a rerun completes it). */
  readonly failures: readonly string[];
}

export interface CognigyAuditOutcome {
  readonly summary: CognigyAuditSummary;
  /** Set when the preflight failed: the caller must not run Cognigy-dependent work. */
  readonly preflightError?: CognigyPreflightError;
}

/**
 * The preflight alone, for any Cognigy-dependent work: throws CognigyPreflightError when the
 * credential lacks something the manifest needs; returns the comparison otherwise.
 */
export async function cognigyPreflight(
  cognigy: CognigyApi,
  manifest: RightsManifest,
): Promise<PrivilegeReport> {
  const report = compareWithManifest(await getCurrentUserAcl(cognigy), manifest);
  const missing = describeMissing(report.missing);
  if (missing.length > 0) throw new CognigyPreflightError(missing, report.traceId);
  return report;
}

export async function runCognigyAudit(
  deps: CognigyAuditDeps,
  trigger = 'schedule',
): Promise<CognigyAuditOutcome> {
  const runId = deps.newRunId?.() ?? randomUUID();
  const now = deps.now();
  const failures: string[] = [];
  const notifications = { sent: 0, failed: 0, leftToOtherRun: 0 };

  const reconcileAndNotify = async (source: string, result: Promise<ReconcileResult>) => {
    const reconciled = await result;
    for (const f of reconciled.failed) failures.push(`${source}/${f.subjectId}: ${f.error}`);
    const delivery = await deps.findings.deliverNotifications(reconciled.undelivered, deps.notifier, {
      now,
      runId,
    });
    notifications.sent += delivery.sent.length;
    notifications.failed += delivery.failed.length;
    notifications.leftToOtherRun += delivery.leftToOtherRun;
    for (const f of delivery.failed) failures.push(`notify ${f.key}: ${f.error}`);
    return reconciled;
  };
  const reconcileOptions = {
    now,
    runId,
    unobserved: { status: 'RESOLVED', reason: 'no longer found' } as const,
    notificationFor: (change: FindingChange) => notificationFor(change, now.getTime()),
  };

  const owned = (observations: Observation[]): Observation[] =>
    deps.owner ? observations.map((o) => ({ ...o, owner: deps.owner })) : observations;

  // 1. Privileges.
  const acl = await getCurrentUserAcl(deps.cognigy);
  const report = compareWithManifest(acl, deps.manifest);
  const privilege = await reconcileAndNotify(
    PRIVILEGE_SOURCE,
    deps.findings.reconcile(PRIVILEGE_SOURCE, owned(privilegeObservations(report)), reconcileOptions),
  );
  const overPrivileged = report.overPrivileged.map((v) => ({
    scope: scopeLabel(v.scope),
    extraRights: v.extraRights,
    extraRoles: v.extraRoles,
  }));
  for (const v of overPrivileged) {
    deps.log.warn('Cognigy credential over-privileged', { ...v, traceId: report.traceId, runId });
  }

  // 2. Preflight.
  const missing = describeMissing(report.missing);
  const preflightError = missing.length > 0 ? new CognigyPreflightError(missing, report.traceId) : undefined;
  const base = {
    runId,
    trigger,
    preflight: { passed: !preflightError, missing, traceId: report.traceId },
    privilege: { overPrivileged, findings: countChanges(privilege) },
  };
  if (preflightError) {
    deps.log.error(preflightError.message, { missing, traceId: report.traceId, runId });
    return {
      summary: {
        ...base,
        apiKeys: { checked: false, reason: 'preflight failed' },
        notifications,
        failures,
      },
      preflightError,
    };
  }

  // 3. API keys.
  const { keys, traceId: keysTraceId } = await listOwnApiKeys(deps.cognigy);
  const ownKey = identifyOwnKey(keys, { configuredKeyId: deps.apiKeyId, apiKey: deps.apiKey });
  if (!ownKey.identified)
    deps.log.warn('Cannot tell which Cognigy key the automation uses', {
      reason: ownKey.reason,
      traceId: keysTraceId,
      runId,
    });
  const review = reviewApiKeys(keys, ownKey, deps.keyPolicy, now.getTime());
  const keyFindings = await reconcileAndNotify(
    API_KEY_SOURCE,
    deps.findings.reconcile(
      API_KEY_SOURCE,
      owned(apiKeyObservations(review, deps.keyPolicy)),
      reconcileOptions,
    ),
  );

  return {
    summary: {
      ...base,
      apiKeys: {
        checked: true,
        total: keys.length,
        warned: review.ages.filter((a) => a.level === 'warning').length,
        flagged: review.ages.filter((a) => a.level === 'flagged').length,
        multipleActive: review.multipleActive !== undefined,
        ownKey,
        traceId: keysTraceId,
        findings: countChanges(keyFindings),
      },
      notifications,
      failures,
    },
  };
}

function countChanges(result: ReconcileResult): FindingCounts {
  const of = (kind: FindingChange['kind']) => result.changes.filter((c) => c.kind === kind).length;
  return {
    opened: of('opened') + of('reopened'),
    escalated: result.changes.filter((c) => c.kind === 'status-changed' && c.after.status === 'FLAGGED')
      .length,
    updated:
      of('updated') +
      result.changes.filter((c) => c.kind === 'status-changed' && c.after.status !== 'FLAGGED').length,
    resolved: of('closed'),
    open: [...result.findings.values()].filter((f) => isOpen(f.status)).length,
  };
}
