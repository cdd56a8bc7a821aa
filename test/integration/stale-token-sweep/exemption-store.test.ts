import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoExemptionStore,
  ExemptionConflictError,
} from '../../../functions/stale-token-sweep/exemption-store';
import { freshTable } from '../../support/emulators';

describe('exemptions kept as data', () => {
  test('add, remove and add again: one item, its whole history, what the sweep loads', async () => {
    const { doc, tableName } = await freshTable('findings');
    const store = new DynamoExemptionStore(doc, tableName);
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));

    await store.add(
      { namePattern: 'CI-*', reason: 'rotated by the platform', expires: '2026-06-30' },
      'alice',
      at(1),
    );
    await expect(store.add({ namePattern: 'ci-*', reason: 'again' }, 'bob', at(2))).rejects.toThrow(
      ExemptionConflictError, // patterns match any case: the same exemption
    );
    expect(await store.load()).toEqual([
      { namePattern: 'CI-*', reason: 'rotated by the platform', expires: '2026-06-30' },
    ]);

    await store.remove('namePattern:CI-*', 'bob', 'platform stopped rotating', at(3));
    await expect(store.remove('namePattern:CI-*', 'bob', 'twice', at(4))).rejects.toThrow(
      /no active exemption/,
    );
    expect(await store.load()).toEqual([]);

    const readded = await store.add({ namePattern: 'CI-*', reason: 'back on' }, 'carol', at(5));
    expect(readded).toMatchObject({ status: 'ACTIVE', addedBy: 'carol', reason: 'back on' });
    expect(readded.expires).toBeUndefined(); // the old expiry does not linger
    expect(readded.removedBy).toBeUndefined();
    expect(readded.history.map((h) => `${h.action} ${h.by}`)).toEqual([
      'added alice',
      'removed bob',
      'added carol',
    ]);
    expect(await store.list()).toHaveLength(1);
  });

  test('an item that no longer validates stops the load (the sweep then fails instead of ignoring it)', async () => {
    const { doc, tableName } = await freshTable('findings');
    const store = new DynamoExemptionStore(doc, tableName);
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'EXEMPTION#stale-token',
          sk: 'tokenId#t1',
          kind: 'tokenId',
          value: 't1',
          reason: 'x',
          expires: '2026-02-30',
          status: 'ACTIVE',
          addedBy: 'hand',
          addedAt: 'now',
          version: 1,
          history: [],
        },
      }),
    );
    await expect(store.load()).rejects.toThrow(
      /exemption tokenId:t1 .* is invalid: expires 2026-02-30 is not a calendar date/,
    );
  });
});
