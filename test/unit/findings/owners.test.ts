import {
  OwnerLookups,
  nameOwners,
  ownerAttributes,
  ownerLabel,
  type Finding,
  type Observation,
  type OwnerContact,
  type OwnerDirectory,
} from '../../../functions/shared/findings';
import { messageAttributesOf } from '../../../functions/shared/notifier';

const ADA = { id: 'id-ada', name: 'ada' };
const BOB = { id: 'id-bob', name: 'bob' };

/** A directory answering from a map; `fail` ids are left out (no answer); asked ids are recorded. */
function directory(known: Record<string, OwnerContact | null>, fail: string[] = []) {
  const asked: string[][] = [];
  const dir: OwnerDirectory = {
    async describe(ids) {
      asked.push([...ids]);
      return new Map(ids.filter((id) => !fail.includes(id) && id in known).map((id) => [id, known[id]!]));
    },
  };
  return { dir, asked };
}

const finding = (subjectId: string, status: Finding['status'], owner: Finding['owner']): Finding => ({
  source: 's',
  subjectId,
  status,
  reason: 'r',
  owner,
  facts: {},
  episode: 1,
  firstSeenAt: 't',
  statusSince: 't',
  lastSeenAt: 't',
  version: 1,
});

const obs = (subjectId: string, status: Observation['status'], owner = ADA): Observation => ({
  subjectId,
  status,
  reason: 'r',
  owner,
});

describe('nameOwners', () => {
  it('looks up owners of new and status-changing findings once, and names all their observations', async () => {
    const { dir, asked } = directory({ 'id-ada': { displayName: 'Ada L', email: 'ada@x' } });
    const named = await nameOwners(
      [obs('new', 'FLAGGED'), obs('same', 'WARNED'), obs('closing', 'RESOLVED')],
      [finding('same', 'WARNED', ADA), finding('closing', 'FLAGGED', ADA)],
      new OwnerLookups(dir),
    );
    expect(asked).toEqual([['id-ada']]);
    for (const o of named) expect(o.owner).toEqual({ ...ADA, displayName: 'Ada L', email: 'ada@x' });
  });

  it('asks nothing when no status changes, and keeps the details the findings have', async () => {
    const { dir, asked } = directory({});
    const stored = { ...BOB, displayName: 'Bob B', email: 'bob@x' };
    const named = await nameOwners(
      [obs('a', 'FLAGGED', BOB), obs('b', 'RESOLVED', BOB)],
      [finding('a', 'FLAGGED', stored), finding('b', 'WARNED', stored)],
      new OwnerLookups(dir),
    );
    expect(asked).toEqual([]);
    expect(named.map((o) => o.owner)).toEqual([stored, stored]);
  });

  it('a failed lookup keeps what was known; an unknown identity loses its old details; another owner id starts bare', async () => {
    const { dir } = directory({ 'id-bob': null }, ['id-ada']);
    const lookups = new OwnerLookups(dir);
    const named = await nameOwners(
      [obs('a', 'FLAGGED', ADA), obs('b', 'FLAGGED', BOB), obs('c', 'FLAGGED', BOB)],
      [
        finding('a', 'WARNED', { ...ADA, email: 'ada@old' }),
        finding('b', 'WARNED', { ...BOB, email: 'bob@old' }),
        finding('c', 'FLAGGED', { id: 'someone-else', email: 'x@y' }),
      ],
      lookups,
    );
    expect(named.map((o) => o.owner)).toEqual([{ ...ADA, email: 'ada@old' }, BOB, BOB]);
    expect(lookups.stats).toEqual({ asked: 2, found: 0, unknown: 1, failed: 1 });
  });

  it('a directory that throws counts every id as failed and the run goes on', async () => {
    const lookups = new OwnerLookups({
      describe: () => Promise.reject(new Error('down')),
    });
    const named = await nameOwners([obs('a', 'FLAGGED')], [], lookups);
    expect(named[0]!.owner).toEqual(ADA);
    expect(lookups.stats.failed).toBe(1);
    await lookups.prefetch(['id-ada']); // asked once per run, whatever the answer
    expect(lookups.stats.asked).toBe(1);
  });
});

describe('owner labels and attributes', () => {
  it('labels by display name, then name, then id', () => {
    expect(ownerLabel({ id: 'i', name: 'n', displayName: 'D' })).toBe('D');
    expect(ownerLabel({ id: 'i', name: 'n' })).toBe('n');
    expect(ownerLabel({ id: 'i' })).toBe('identity i');
  });

  it('SNS attributes: ownerId always, ownerEmail when known; kind and key cannot be overridden', () => {
    expect(ownerAttributes({ id: 'i' })).toEqual({ ownerId: 'i' });
    expect(ownerAttributes(undefined)).toEqual({});
    const attributes = messageAttributesOf({
      kind: 'k',
      key: 'key-1',
      subject: 's',
      detail: {},
      attributes: { ...ownerAttributes({ id: 'i', email: 'e@x' }), kind: 'forged', team: '' },
    });
    expect(attributes).toEqual({
      ownerId: { DataType: 'String', StringValue: 'i' },
      ownerEmail: { DataType: 'String', StringValue: 'e@x' },
      kind: { DataType: 'String', StringValue: 'k' },
      key: { DataType: 'String', StringValue: 'key-1' },
    });
  });
});
