/**
 * Findings: a generic store and lifecycle for "something an audit found", over the `findings` table.
 * Used by the stale-token sweep (source 'stale-token') and the Cognigy.AI credential audit.
 *
 * A finding is keyed by (source, subjectId) and has a status: open (WARNED, FLAGGED, EXEMPT) or
 * closed (RESOLVED, REVOKED). A run reports what it saw as `Observation`s; the store writes only
 * the findings that changed, so a run over an unchanged world writes nothing.
 *
 * Typical run:
 *
 *   const store = new FindingsStore({ doc, tableName });
 *   const runId = randomUUID();
 *   const existing = await store.list(source);                     // optional: to decide observations
 *   const result = await store.reconcile(source, observations, {
 *     now, runId, existing,
 *     unobserved: { status: 'RESOLVED', reason: 'no longer found' }, // after a complete scan; else 'keep'
 *     notificationFor: (change) => change.after.status === 'FLAGGED' && change.before?.status !== 'FLAGGED'
 *       ? { kind: 'my-audit.flagged', subject: '…', detail: { … } } : undefined,
 *   });
 *   const delivery = await store.deliverNotifications(result.undelivered, notifier, { now, runId });
 *   // result.changes: what changed; result.failed / delivery.failed: report the run as failed
 *
 * Guarantees
 * - Every write is a single-item conditional write on the finding's `version`. If two runs race,
 *   one writes the change; the other re-reads, finds nothing left to change, and writes nothing.
 * - A change's notification is stored PENDING in the same write, claimed by the run (`runId`).
 *   `deliverNotifications` publishes it, then records it SENT. Only the claiming run publishes
 *   while its claim lease lasts (default 15 min); after that, a later run takes over. So each change
 *   is published once; a crash between publishing and recording can cause one re-publish with the
 *   same `key` (`<source>/<subjectId>/v<version>`), which subscribers use to drop duplicates.
 * - A newer notifiable change replaces a still-pending notification; any status change (closing, or
 *   moving to another open status) drops a pending one that no new notification replaces.
 * - `claimAction(finding, 'revoke', now)` lets exactly one run perform a one-off action; the claim
 *   is kept on the finding (check it with `claimIsLive`) until `releaseAction` gives it up (the
 *   action failed), the status changes, or a new episode opens.
 * - A DynamoDB error on one finding (a write in `reconcile`, a take-over or record in
 *   `deliverNotifications`) is reported in `failed`; the other findings go on.
 * - `stats` counts reads, writes and conflicts.
 *
 * Owners (owners.ts): `nameOwners` gives each observation its owner's display name and e-mail from
 * the identity directory (once per owner per run, only for findings that change status), and every
 * notification carries `ownerId` / `ownerEmail` SNS message attributes for subscription filters.
 */
export * from './lifecycle';
export * from './owners';
export * from './sources';
export * from './store';
