/**
 * The DynamoDB state on dynalite: every write is a single-item conditional write, and expiry is
 * checked in the condition (an expired item TTL has not deleted yet cannot be claimed by mistake,
 * and a live one cannot be taken over).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoProvisioningStore,
  slotKey,
  type ClaimWrite,
} from '../../../functions/access-provisioning/state-store';
import { slotRef } from '../../../functions/access-provisioning/units';
import { freshTable } from '../../support/emulators';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const slot = slotRef('id1', 'ROLE', 'r1');
const claim = (overrides: Partial<ClaimWrite> = {}): ClaimWrite => ({
  operation: 'GRANT_ACCESS',
  claimToken: 'token-1',
  messageId: 'm1',
  requestId: 'REQ-1',
  now: NOW,
  leaseMs: 60_000,
  attemptSince: NOW,
  attemptUntil: NOW + 60_000,
  ...overrides,
});

describe('access-provisioning state store (dynalite)', () => {
  async function store() {
    const { tableName, doc } = await freshTable('accessRequests');
    return { s: new DynamoProvisioningStore(doc, tableName), doc, tableName };
  }

  it('lets exactly one of two writers claim an empty slot', async () => {
    const { s } = await store();
    const results = await Promise.all([
      s.claim(slot, claim({ claimToken: 'a' }), { kind: 'absent' }),
      s.claim(slot, claim({ claimToken: 'b', messageId: 'm2' }), { kind: 'absent' }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const record = (await s.readSlots([slot])).get(slot.key)!;
    expect(record).toMatchObject({
      state: 'claimed',
      version: 1,
      operation: 'GRANT_ACCESS',
      requestId: 'REQ-1',
    });
    expect(record.leaseExpiresAt).toBe(NOW + 60_000);
  });

  it('takes over a slot only when it is unchanged since read and its expiry has really passed', async () => {
    const { s } = await store();
    await s.claim(slot, claim(), { kind: 'absent' });
    // Stale version: refused.
    expect(await s.claim(slot, claim({ claimToken: 'x' }), { kind: 'unchanged', version: 7 })).toBe(false);
    // Right version, but the lease has not run out at `now`: refused by the condition.
    expect(
      await s.claim(slot, claim({ claimToken: 'x' }), {
        kind: 'unchanged',
        version: 1,
        expired: { field: 'leaseExpiresAt', now: NOW + 59_999 },
      }),
    ).toBe(false);
    expect(
      await s.claim(slot, claim({ claimToken: 'x', now: NOW + 60_000 }), {
        kind: 'unchanged',
        version: 1,
        expired: { field: 'leaseExpiresAt', now: NOW + 60_000 },
      }),
    ).toBe(true);
    expect((await s.readSlots([slot])).get(slot.key)).toMatchObject({ claimToken: 'x', version: 2 });
  });

  it('records a submission only for the claim holder, with no TTL (the race rule needs it until SailPoint is done)', async () => {
    const { s, doc, tableName } = await store();
    await s.claim(slot, claim(), { kind: 'absent' });
    const submission = {
      submittedAt: NOW + 1000,
      dedupUntil: NOW + 1000 + 7 * 86_400_000,
      accessRequestIds: ['ar1'],
    };
    expect(await s.markSubmitted(slot, 'someone-else', submission)).toBe(false);
    expect(await s.markSubmitted(slot, 'token-1', submission)).toBe(true);

    const record = (await s.readSlots([slot])).get(slot.key)!;
    expect(record).toMatchObject({
      state: 'submitted',
      version: 2,
      accessRequestIds: ['ar1'],
      dedupUntil: submission.dedupUntil,
    });
    expect(record.leaseExpiresAt).toBeUndefined();
    const raw = await doc.send(new GetCommand({ TableName: tableName, Key: slotKey(slot) }));
    expect(raw.Item?.expiresAt).toBeUndefined();

    // A submitted slot is not released by a late release call.
    await s.release(slot, 'token-1');
    expect((await s.readSlots([slot])).get(slot.key)?.state).toBe('submitted');
  });

  it('gives TTL nothing to delete on a claim (the record of an attempt that may have reached SailPoint)', async () => {
    const { s, doc, tableName } = await store();
    await s.claim(slot, claim(), { kind: 'absent' });
    const raw = await doc.send(new GetCommand({ TableName: tableName, Key: slotKey(slot) }));
    expect(raw.Item).toMatchObject({ state: 'claimed', attemptUntil: NOW + 60_000 });
    expect(raw.Item?.expiresAt).toBeUndefined();
  });

  it('claims over a submission whose window passed even though TTL has not deleted it', async () => {
    const { s } = await store();
    await s.claim(slot, claim(), { kind: 'absent' });
    await s.markSubmitted(slot, 'token-1', { submittedAt: NOW, dedupUntil: NOW + 1000 });
    expect(
      await s.claim(slot, claim({ claimToken: 'n', now: NOW + 999 }), {
        kind: 'unchanged',
        version: 2,
        expired: { field: 'dedupUntil', now: NOW + 999 },
      }),
    ).toBe(false);
    expect(
      await s.claim(slot, claim({ claimToken: 'n', now: NOW + 1000 }), {
        kind: 'unchanged',
        version: 2,
        expired: { field: 'dedupUntil', now: NOW + 1000 },
      }),
    ).toBe(true);
  });

  it('releases a claim only with its token', async () => {
    const { s } = await store();
    await s.claim(slot, claim(), { kind: 'absent' });
    await s.release(slot, 'wrong');
    expect((await s.readSlots([slot])).size).toBe(1);
    await s.release(slot, 'token-1');
    expect((await s.readSlots([slot])).size).toBe(0);
  });

  it('reads many slots at once (more than one BatchGet page)', async () => {
    const { s } = await store();
    const slots = Array.from({ length: 130 }, (_, i) => slotRef(`id${i}`, 'ROLE', 'r1'));
    await Promise.all(
      slots.filter((_, i) => i % 2 === 0).map((sl) => s.claim(sl, claim(), { kind: 'absent' })),
    );
    const found = await s.readSlots(slots);
    expect(found.size).toBe(65);
    expect(found.has(slots[128]!.key)).toBe(true);
  });

  it('keeps an outcome record per message with its history, findable by message id and by requestId', async () => {
    const { s } = await store();
    const unit = {
      unit: 'GRANT_ACCESS ROLE r1 for identity id1',
      requestType: 'GRANT_ACCESS' as const,
      identityId: 'id1',
      itemType: 'ROLE',
      itemId: 'r1',
    };
    const base = { requestId: 'REQ-7', retentionMs: 30 * 86_400_000 };
    await s.recordOutcome({
      ...base,
      messageId: 'm1',
      receiveCount: 1,
      status: 'retrying',
      reason: 'rate limited',
      units: [{ ...unit, outcome: 'retrying', detail: 'rate limited' }],
      at: NOW,
    });
    await s.recordOutcome({
      ...base,
      messageId: 'm1',
      receiveCount: 2,
      status: 'submitted',
      units: [{ ...unit, outcome: 'submitted', detail: 'ok' }],
      at: NOW + 5000,
    });
    await s.recordOutcome({
      ...base,
      messageId: 'm2',
      receiveCount: 1,
      status: 'duplicate',
      units: [{ ...unit, outcome: 'duplicate', detail: 'dup' }],
      at: NOW + 6000,
    });

    const m1 = await s.outcomeOfMessage('m1');
    expect(m1).toMatchObject({
      status: 'submitted',
      firstSeenAt: NOW,
      updatedAt: NOW + 5000,
      receiveCount: 2,
      requestId: 'REQ-7',
    });
    expect(m1?.reason).toBeUndefined();
    expect(m1?.history).toEqual([
      { at: new Date(NOW).toISOString(), status: 'retrying', receiveCount: 1, reason: 'rate limited' },
      { at: new Date(NOW + 5000).toISOString(), status: 'submitted', receiveCount: 2 },
    ]);
    const byRequest = await s.outcomesOfRequest('REQ-7');
    expect(byRequest.map((o) => [o.messageId, o.status])).toEqual([
      ['m1', 'submitted'],
      ['m2', 'duplicate'],
    ]);
    expect(await s.outcomeOfMessage('nope')).toBeUndefined();
  });

  it('lets the first message that finished a requestId own it until its retention ends (decided by time)', async () => {
    const { s } = await store();
    const processed = (messageId: string, at: number) => ({
      requestId: 'REQ-9',
      messageId,
      fingerprint: 'f1',
      processedAt: at,
      retainUntil: at + 60_000,
    });
    expect(await s.recordProcessedRequest(processed('m1', NOW))).toBe(true);
    expect(await s.recordProcessedRequest(processed('m1', NOW + 1000))).toBe(true); // its redelivery
    expect(await s.recordProcessedRequest(processed('m2', NOW + 2000))).toBe(false);
    expect((await s.readRequests(['REQ-9', 'REQ-none'])).get('REQ-9')).toMatchObject({ messageId: 'm1' });
    expect((await s.readRequests(['REQ-none'])).size).toBe(0);
    // TTL has not deleted it (dynalite never does), but its retention is over: another may own it.
    expect(await s.recordProcessedRequest(processed('m2', NOW + 61_001))).toBe(true);
    expect((await s.readRequests(['REQ-9'])).get('REQ-9')).toMatchObject({ messageId: 'm2' });
    // Not an outcome record: the operators' byRequestId index does not list it.
    expect(await s.outcomesOfRequest('REQ-9')).toEqual([]);
  });

  it('keeps an outcome record within an item whatever the message: units, texts and receives', async () => {
    const { s, doc, tableName } = await store();
    const long = (n: number, c = 'x') => c.repeat(n);
    const units = Array.from({ length: 1000 }, (_, i) => ({
      unit: long(300),
      requestType: 'REVOKE_ACCESS' as const,
      identityId: `${long(124)}${String(i).padStart(4, '0')}`,
      itemType: 'ACCESS_PROFILE',
      itemId: long(128, 'i'),
      outcome: 'submitted' as const,
      detail: long(4000, 'd'),
      accessRequestIds: Array.from({ length: 20 }, () => long(128, 'a')),
    }));
    // Sanity: the emulator refuses an item over 400 KB, as DynamoDB does.
    await expect(
      doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'p', sk: 's', units } })),
    ).rejects.toThrow(/size/i);

    for (let receive = 1; receive <= 30; receive++) {
      await s.recordOutcome({
        messageId: 'm-big',
        requestId: long(256, 'r'),
        receiveCount: receive,
        status: 'retrying',
        reason: long(10_000, 'why'),
        units,
        at: NOW + receive,
        retentionMs: 86_400_000,
      });
    }
    const stored = (await s.outcomeOfMessage('m-big'))!;
    expect(stored.receiveCount).toBe(30);
    expect(stored.unitCounts).toEqual({ submitted: 1000 });
    expect(stored.units.length + (stored.unitsOmitted ?? 0)).toBe(1000);
    expect(stored.units[0]!.unit).toBe(
      `REVOKE_ACCESS ACCESS_PROFILE ${long(128, 'i')} for identity ${units[0]!.identityId}`,
    );
    expect(stored.history).toHaveLength(20);
    expect(stored.history[19]!.receiveCount).toBe(30); // the latest receive is always there
    expect(stored.history[0]!.receiveCount).toBe(1);
  });
});
