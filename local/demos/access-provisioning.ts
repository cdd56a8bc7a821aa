/**
 * `npm start` part for queue-fed access provisioning: creates the intake queue and its DLQ in fauxqs,
 * feeds a sample batch (exact duplicates, access already held, a REVOKE of access not held, a GRANT
 * and REVOKE of the same access, invalid messages, an identity Search does not know) with Search's
 * indexing lag on (the sandbox default) through the real handler (built from the
 * environment, as in Lambda) with the local poller, then a late duplicate, and prints what happened
 * to each message from the outcome records an operator would read.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../../functions/shared/aws';
import { createAccessProvisioningHandlerFromEnv } from '../../functions/access-provisioning/handler';
import { DynamoProvisioningStore, type StoredOutcome } from '../../functions/access-provisioning/state-store';
import { rejectPrivileged, settleAccessRequests } from '../../sandbox/sailpoint/access-requests';
import { DEFAULT_SEED_IDS } from '../../sandbox/seed';
import type { LocalDemo } from '../environment';
import { drainQueue } from '../queue-poller';

const ID = (n: number) => `2c9180aa0000000000000000000000${String(n).padStart(2, '0')}`;
const ITEM = (n: number) => `acce55000000000000000000000000${String(n).padStart(2, '0')}`;
const FARID = ID(6);
const GRACE = ID(7);
const HUGO = ID(8);
const JONAS = ID(10);
const MATEO = ID(13);
const QUINN = ID(17);
const GITHUB_DEVELOPER = ITEM(3);
const AWS_READONLY = ITEM(4);
const AWS_ADMINISTRATOR = ITEM(5);
const SALESFORCE_USER = ITEM(7);
const PAYROLL_VIEWER = ITEM(12);
const ENGINEERING = ITEM(2);

/** The sample batch: [label, body]. Bodies are the API's AccessRequest plus an optional requestId. */
function sampleMessages(): [string, unknown][] {
  const grant = (
    requestId: string,
    requestedFor: string[],
    items: [string, string][],
    extra: object = {},
  ) => ({
    requestId,
    requestedFor,
    requestType: 'GRANT_ACCESS',
    requestedItems: items.map(([type, id]) => ({ type, id })),
    ...extra,
  });
  const awsReadOnly = grant('HR-1001', [FARID], [['ACCESS_PROFILE', AWS_READONLY]]);
  return [
    ['new joiner needs AWS ReadOnly', awsReadOnly],
    ['the same message sent twice', awsReadOnly],
    ['access already held', grant('HR-1002', [FARID], [['ACCESS_PROFILE', GITHUB_DEVELOPER]])],
    [
      'Salesforce for three people',
      grant('HR-1003', [HUGO, MATEO, QUINN], [['ENTITLEMENT', SALESFORCE_USER]]),
    ],
    ['Salesforce for one more (coalesced)', grant('HR-1004', [JONAS], [['ENTITLEMENT', SALESFORCE_USER]])],
    [
      'privileged access (the approver rejects it)',
      grant('HR-1005', [GRACE], [['ACCESS_PROFILE', AWS_ADMINISTRATOR]]),
    ],
    [
      'mover loses GitHub',
      {
        requestId: 'HR-1006',
        requestedFor: [JONAS],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ACCESS_PROFILE', id: GITHUB_DEVELOPER, comment: 'moved to Finance' }],
      },
    ],
    [
      'revoke of access not held',
      {
        requestId: 'HR-1007',
        requestedFor: [JONAS],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ACCESS_PROFILE', id: PAYROLL_VIEWER, comment: 'clean-up' }],
      },
    ],
    ['GRANT of Engineering…', grant('HR-1011', [QUINN], [['ROLE', ENGINEERING]])],
    [
      '…and its REVOKE in the same batch (waits for the GRANT to finish; Search, minutes behind, does ' +
        'not show the grant yet, so the REVOKE is submitted rather than skipped as not held)',
      {
        requestId: 'HR-1012',
        requestedFor: [QUINN],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: ENGINEERING, comment: 'offer withdrawn' }],
      },
    ],
    ['invalid: not JSON', '{"requestedFor": ["oops"'],
    [
      'invalid: REVOKE without comment',
      {
        requestId: 'HR-1008',
        requestedFor: [GRACE],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: ITEM(2) }],
      },
    ],
    [
      'an identity Search does not know (perhaps a joiner not indexed yet: retried for ' +
        'UNKNOWN_IDENTITY_RETRY_MINUTES, then dead-lettered as unknown)',
      grant('HR-1009', ['2c9180aa0000000000000000000000ff'], [['ROLE', ITEM(2)]]),
    ],
    [
      'invalid: removeDate in the past',
      grant('HR-1010', [GRACE], [['ROLE', ITEM(2)]], {
        requestedItems: [{ type: 'ROLE', id: ITEM(2), removeDate: '2020-01-01T00:00:00Z' }],
      }),
    ],
  ];
}

export const accessProvisioningDemo: LocalDemo = async (local) => {
  const { sqs, sandbox, print } = local;
  const names = (id: string) => sandbox.state.identities.get(id)?.displayName ?? id;
  const itemName = (id: string) => sandbox.state.accessItems.get(id)?.displayName ?? id;

  // Intake queue with a DLQ, as the stack creates them.
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'access-provisioning-dlq' }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'access-provisioning',
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:access-provisioning-dlq',
          maxReceiveCount: 6,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl!;
  const dlqUrl = dlq.QueueUrl!;
  sandbox.state.accessRequests.decide = rejectPrivileged(sandbox.state);

  // The sample has invalid messages on purpose: keep the handler's expected dead-letter warnings
  // out of the printout (the outcome records below say the same). The level is read at construction.
  const logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'ERROR';
  const handler = await createAccessProvisioningHandlerFromEnv({
    ...local.env,
    LOG_LEVEL: 'ERROR', // the handler's logger reads this environment, not process.env
    QUEUE_URL: queueUrl,
    DEAD_LETTER_QUEUE_URL: dlqUrl,
    MAX_RECEIVE_COUNT: '5',
    // Locally nothing needs to wait: retries are visible again at once.
    TRANSIENT_RETRY_SECONDS: '0',
    CONFLICT_RETRY_SECONDS: '0',
    STATUS_SETTLE_SECONDS: '0',
    SAILPOINT_MAX_ATTEMPTS: '2',
  }).finally(() => {
    if (logLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = logLevel;
  });
  const store = new DynamoProvisioningStore(createDocumentClient(), local.tables.accessRequests);

  const send = async (messages: [string, unknown][]) => {
    const sent: { label: string; messageId: string }[] = [];
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map(([, body], index) => ({
            Id: String(index),
            MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
          })),
        }),
      );
      for (const ok of result.Successful ?? [])
        sent.push({ label: chunk[Number(ok.Id)]![0], messageId: ok.MessageId! });
    }
    return sent;
  };

  const postsBefore = sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests' });
  const messages = sampleMessages();
  print(
    `  sending ${messages.length} messages (a duplicate, 3 invalid ones, one naming an identity Search does ` +
      `not know) to ${queueUrl}; Search lags ${sandbox.state.search.lagMs / 60_000} min, as a real tenant's does`,
  );
  const sent = await send(messages);
  const first = await drainQueue({ sqs, queueUrl, handler, batchSize: 20, timeoutMs: 30_000 });
  print(`  handler ran ${first.batches} batch(es); ${first.failed} message(s) came back for a retry`);

  print('  later, HR sends HR-1001 once more:');
  const late = await send([['late duplicate of HR-1001', messages[0]![1]]]);
  await drainQueue({ sqs, queueUrl, handler, batchSize: 10, timeoutMs: 10_000 });
  settleAccessRequests(sandbox.state, new Date());

  print('');
  print('  what happened to each message (from the outcome records in DynamoDB):');
  for (const { label, messageId } of [...sent, ...late]) {
    const outcome = await store.outcomeOfMessage(messageId);
    print(`  • ${label}`);
    print(describe(outcome, names, itemName));
  }

  const posts = sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests' }) - postsBefore;
  const dead = await sqs.send(
    // Counted, then visible again at once: `npm run dev` leaves them there for `iga dlq`.
    new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
  );
  const depth = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const waiting = Number(depth.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  print('');
  print(
    `  SailPoint: ${posts} access request POST(s) for ${sent.length + late.length} messages; ` +
      `DLQ holds ${dead.Messages?.length ?? 0} message(s); queue left with ${depth.Attributes?.ApproximateNumberOfMessages ?? '?'}` +
      (waiting > 0 ? `, and ${waiting} waiting for its retry (the identity Search does not know yet).` : '.'),
  );
  for (const record of sandbox.state.accessRequests.records) {
    print(
      `    ${record.requestType.padEnd(13)} ${itemName(record.item.id).padEnd(26)} for ${names(record.requestedFor.id).padEnd(14)} → ${record.state}`,
    );
  }
  print(
    `  (the credential is ${DEFAULT_SEED_IDS.clients.pat.clientId}, a PAT of ${names(DEFAULT_SEED_IDS.identities.iamAdmin)})`,
  );
};

function describe(
  outcome: StoredOutcome | undefined,
  names: (id: string) => string,
  itemName: (id: string) => string,
): string {
  if (!outcome) return '      (no outcome recorded)';
  const head = `      ${outcome.status.toUpperCase()}${outcome.requestId ? ` [${outcome.requestId}]` : ''}`;
  if (outcome.units.length === 0) return `${head}: ${outcome.reason ?? ''}`;
  const lines = outcome.units.map(
    (u) =>
      `        ${u.outcome.padEnd(12)} ${u.requestType} ${itemName(u.itemId)} for ${names(u.identityId)} — ${u.detail}`,
  );
  const attempts = outcome.history.length > 1 ? ` after ${outcome.history.length} receives` : '';
  return [
    `${head}${attempts}${outcome.reason && outcome.status !== 'submitted' ? `: ${outcome.reason}` : ''}`,
    ...lines,
  ].join('\n');
}
