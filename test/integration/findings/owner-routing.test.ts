/**
 * Findings that reach a person, over the wire: the sweep against the sandbox tenant (tokens and
 * identity documents), findings in dynalite, notifications published to an SNS topic in fauxqs and
 * fanned out to SQS queues whose subscriptions filter on the owner attributes — as an operator would
 * route each owner's notices to them (an e-mail endpoint, a chat webhook, a ticket queue).
 */
import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, type Message } from '@aws-sdk/client-sqs';
import {
  FindingsStore,
  sailPointOwnerDirectory,
  type OwnerDirectory,
} from '../../../functions/shared/findings';
import { SnsNotifier } from '../../../functions/shared/notifier';
import { SailPointClient } from '../../../functions/shared/sailpoint';
import { DAY_MS } from '../../../functions/stale-token-sweep/policy';
import { FINDINGS_SOURCE, runStaleTokenSweep } from '../../../functions/stale-token-sweep/sweep';
import { sailPointTokenDirectory } from '../../../functions/stale-token-sweep/token-directory';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { defaultPolicy } from '../stale-token-sweep/harness';
import { freshTable, localSqsClient, receiveAll, sqsEndpoint, uniqueName } from '../../support/emulators';

const T0 = Date.parse('2025-06-15T06:00:00.000Z');
// Seeded identities (sandbox/README.md): 04 Dev Patel, 05 Elena Rossi, 18 svc.integration (no e-mail).
const DEV = { id: '2c9180aa000000000000000000000004', name: 'dev.patel' };
const ELENA = { id: '2c9180aa000000000000000000000005', name: 'elena.rossi' };
const SERVICE = { id: '2c9180aa000000000000000000000018', name: 'svc.integration' };
const GONE = { id: '2c9180aaffffffffffffffffffffffff', name: 'former.employee' };

const policy = defaultPolicy();

let sandbox: Sandbox;
afterEach(async () => sandbox?.stop());

async function setUp() {
  // The sandbox as it models the real tenant by default (rate limit on).
  sandbox = await startSandbox({ now: () => new Date(T0) });
  sandbox.state.personalAccessTokens.clear();
  const plant = (id: string, owner: { id: string; name: string }, lastUsedDaysAgo: number) =>
    sandbox.state.personalAccessTokens.set(id, {
      id,
      name: `token ${id}`,
      scope: ['sp:scopes:all'],
      owner: { type: 'IDENTITY', ...owner },
      created: new Date(T0 - 400 * DAY_MS).toISOString(),
      lastUsed: new Date(T0 - lastUsedDaysAgo * DAY_MS).toISOString(),
      managed: false,
    });
  plant('dev-1', DEV, 120);
  plant('dev-2', DEV, 80); // warned today, flagged 11 days later
  plant('elena-1', ELENA, 200);
  plant('service-1', SERVICE, 150);
  plant('gone-1', GONE, 100);

  const client = new SailPointClient({
    apiUrl: sandbox.url,
    clientId: 'sandbox-pat-client',
    clientSecret: 'sandbox-pat-secret',
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
  });
  const table = await freshTable('findings');
  const store = new FindingsStore({ doc: table.doc, tableName: table.tableName });

  // The findings topic and three subscribers: Dev by e-mail, Elena by identity id, and a catch-all.
  const endpoint = sqsEndpoint();
  const sns = new SNSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // The SNS calls made, by command: notices go out in PublishBatch calls, each entry with its attributes.
  const snsCalls: Record<string, number> = {};
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      snsCalls[String(context.commandName)] = (snsCalls[String(context.commandName)] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  const sqs = localSqsClient();
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('findings') }));
  const subscribe = async (filter?: Record<string, string[]>) => {
    const name = uniqueName('subscriber');
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: `arn:aws:sqs:us-east-1:000000000000:${name}`,
        Attributes: {
          RawMessageDelivery: 'true', // SNS attributes arrive as SQS message attributes
          ...(filter ? { FilterPolicy: JSON.stringify(filter) } : {}),
        },
      }),
    );
    return QueueUrl!;
  };
  const queues = {
    dev: await subscribe({ ownerEmail: ['dev.patel@example.com'] }),
    elena: await subscribe({ ownerId: [ELENA.id] }),
    all: await subscribe(),
  };
  const received = async (queue: keyof typeof queues) =>
    (await receiveAll(sqs, queues[queue])).map((m: Message) => {
      const body = JSON.parse(m.Body!) as { subject: string; detail: { tokenId: string } };
      const attributes = Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
      );
      return { tokenId: body.detail.tokenId, subject: body.subject, attributes };
    });

  let nowMs = T0;
  const owners = sailPointOwnerDirectory(client);
  const run = (directory: OwnerDirectory = owners, revocation = policy.revocation) =>
    runStaleTokenSweep({
      tokens: sailPointTokenDirectory(client),
      owners: directory,
      findings: store,
      notifier: new SnsNotifier(sns, TopicArn!),
      policy: { ...policy, revocation },
      clock: () => new Date(nowMs),
      newRunId: randomUUID,
    });
  /** Search calls that read identity documents (owners' names). */
  const lookups = () => sandbox.requestLog.count({ method: 'POST', path: '/v3/search' });
  return {
    store,
    run,
    received,
    lookups,
    snsCalls,
    advanceDays: (days: number) => void (nowMs += days * DAY_MS),
  };
}

const byToken = <T extends { tokenId: string }>(items: T[]) =>
  [...items].sort((a, b) => a.tokenId.localeCompare(b.tokenId));

describe('findings name their owner and reach them through SNS filter policies', () => {
  it('looks each owner up once, names them in findings and subjects, and routes by ownerEmail / ownerId', async () => {
    const h = await setUp();
    const first = await h.run();
    expect(first.status).toBe('succeeded');
    // The five notices in one PublishBatch call: the attributes below travelled as its entries' own.
    expect(h.snsCalls).toMatchObject({ PublishBatchCommand: 1 });
    expect(h.snsCalls.PublishCommand).toBeUndefined();
    // Four owners (Dev has two tokens; the unknown one is asked too), one Search call for all of them.
    expect(h.lookups()).toBe(1);
    expect(first.counts).toMatchObject({
      newFindings: 5,
      notified: 5,
      ownerLookups: 4,
      ownerLookupFailures: 0,
    });

    expect((await h.store.get(FINDINGS_SOURCE, 'dev-1'))?.owner).toEqual({
      ...DEV,
      displayName: 'Dev Patel',
      email: 'dev.patel@example.com',
    });
    expect((await h.store.get(FINDINGS_SOURCE, 'service-1'))?.owner).toEqual({
      ...SERVICE,
      displayName: 'Integration Service',
    });
    expect((await h.store.get(FINDINGS_SOURCE, 'gone-1'))?.owner).toEqual(GONE);

    const dev = byToken(await h.received('dev'));
    expect(dev.map((n) => n.tokenId)).toEqual(['dev-1', 'dev-2']);
    expect(dev[0]!.attributes).toMatchObject({ ownerId: DEV.id, ownerEmail: 'dev.patel@example.com' });
    expect(dev[0]!.subject).toContain('(Dev Patel) flagged');
    expect(dev[1]!.subject).toMatch(/^Personal access token "token dev-2" \(Dev Patel\) not used/);
    expect((await h.received('elena')).map((n) => n.tokenId)).toEqual(['elena-1']);

    const all = byToken(await h.received('all'));
    expect(all.map((n) => n.tokenId)).toEqual(['dev-1', 'dev-2', 'elena-1', 'gone-1', 'service-1']);
    // No e-mail known: the attribute is left out (SNS refuses empty values); the id still routes.
    expect(all[4]!.attributes).toEqual(
      expect.objectContaining({ ownerId: SERVICE.id, kind: 'stale-token.flagged' }),
    );
    expect(all[4]!.attributes.ownerEmail).toBeUndefined();
    // No subject shows a raw identity id where a name is known.
    for (const n of all.filter((x) => x.tokenId !== 'gone-1')) expect(n.subject).not.toMatch(/2c9180aa/);
    expect(all.find((n) => n.tokenId === 'gone-1')!.subject).toContain('(former.employee)');

    // The next run over an unchanged tenant: no lookup (the unknown owner neither), no write, no notice.
    const second = await h.run();
    expect(second.counts).toMatchObject({ findingWrites: 0, notified: 0, ownerLookups: 0 });
    expect(h.lookups()).toBe(1);

    // Dev's warned token becomes stale: the one change is looked up again (once) and notified to Dev.
    h.advanceDays(11);
    const third = await h.run();
    expect(third.counts).toMatchObject({ escalated: 1, notified: 1, ownerLookups: 1 });
    expect(h.lookups()).toBe(2);
    expect((await h.received('dev')).map((n) => n.tokenId)).toEqual(['dev-2']);
    expect(await h.received('elena')).toEqual([]);
  });

  it('arming: the dated notice sent when revocation is switched on names the owner as Search knows them now', async () => {
    const h = await setUp();
    const dryRun = await h.run(undefined, { ...policy.revocation, enabled: false });
    expect(dryRun.counts).toMatchObject({ notified: 5, ownerLookups: 4 });
    expect((await h.received('dev')).map((n) => n.tokenId)).toEqual(['dev-1', 'dev-2']);
    await h.received('all');
    // Dev's e-mail changes in the identity directory; nothing about the tokens does.
    sandbox.state.identities.get(DEV.id)!.email = 'dev.patel@new.example.com';

    // Revocation switched on: each FLAGGED token gets its dated notice (no status change), so its owner
    // is looked up again, and Dev's notice carries the new e-mail.
    const armed = await h.run(undefined, { ...policy.revocation, enabled: true });
    expect(armed.status).toBe('succeeded');
    expect(armed.counts).toMatchObject({ revoked: 0, notified: 4, ownerLookups: 4 }); // not Dev's warned one
    const all = byToken(await h.received('all'));
    expect(all.map((n) => n.tokenId)).toEqual(['dev-1', 'elena-1', 'gone-1', 'service-1']);
    const dev = all[0]!;
    expect(dev.subject).toMatch(/\(Dev Patel\) flagged: .*it will be revoked from \d{4}-\d{2}-\d{2}/);
    expect(dev.attributes).toMatchObject({ ownerId: DEV.id, ownerEmail: 'dev.patel@new.example.com' });
    expect(await h.received('dev')).toEqual([]); // the old address's filter no longer matches
    expect((await h.store.get(FINDINGS_SOURCE, 'dev-1'))?.owner?.email).toBe('dev.patel@new.example.com');
    expect(h.snsCalls.PublishBatchCommand).toBe(2);
  });

  it('a directory that fails does not fail the run: the id still routes, and the next lookup names every finding', async () => {
    const h = await setUp();
    sandbox.faults.inject({
      method: 'POST',
      path: '/v3/search',
      status: 503,
      times: 2, // both attempts of this run's one Search call
    });
    const first = await h.run();
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ ownerLookups: 4, ownerLookupFailures: 4, notified: 5 });
    expect((await h.store.get(FINDINGS_SOURCE, 'dev-1'))?.owner).toEqual(DEV);
    expect(await h.received('dev')).toEqual([]); // no e-mail known: Dev's e-mail filter cannot match
    const all = byToken(await h.received('all'));
    expect(all[0]).toMatchObject({ tokenId: 'dev-1', attributes: { ownerId: DEV.id } });
    expect(all[0]!.subject).toContain('(dev.patel)'); // the token's owner name, never the id

    // Nothing changed: no lookup is retried for its own sake (no write, no call).
    expect((await h.run()).counts).toMatchObject({ findingWrites: 0, ownerLookups: 0 });

    // Dev's warned token becomes stale: Dev is looked up, and the answer names both of Dev's findings.
    h.advanceDays(11);
    const later = await h.run();
    expect(later.counts).toMatchObject({
      escalated: 1,
      notified: 1,
      ownerLookups: 1,
      ownerLookupFailures: 0,
    });
    for (const id of ['dev-1', 'dev-2']) {
      expect((await h.store.get(FINDINGS_SOURCE, id))?.owner?.email).toBe('dev.patel@example.com');
    }
    expect((await h.received('dev')).map((n) => n.tokenId)).toEqual(['dev-2']);
  });
});
