/**
 * Every `iga` command against the local stack, with state made by the real workflows, `--json`
 * outputs parsed. The sandbox keeps its real constraints (rate limit on).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { DeadLetterView, RedriveResult } from '../../../cli/dead-letter-queue';
import { run } from '../../../cli/main';
import type { RunResult } from '../../../cli/local-runs';
import type { Finding } from '../../../functions/shared/findings';
import type { StoredExemption } from '../../../functions/stale-token-sweep/exemption-store';
import type { SweepSummary } from '../../../functions/stale-token-sweep/sweep';
import type { CognigyAuditSummary } from '../../../functions/cognigy-audit/audit';
import { readDeadLetter } from '../../../functions/shared/queue/dead-letters';
import { disableMetricsOutput } from '../../support/powertools';
import { startCliHarness, type CliHarness } from './harness';

jest.setTimeout(120_000);
disableMetricsOutput();

const ID = (n: number) => `2c9180aa0000000000000000000000${String(n).padStart(2, '0')}`;
const ITEM = (n: number) => `acce55000000000000000000000000${String(n).padStart(2, '0')}`;
const FARID = ID(6);
const HUGO = ID(8);
const AWS_READONLY = ITEM(4);
const SALESFORCE_USER = ITEM(7);

const grant = (requestId: string, identityId: string, itemId: string, type = 'ACCESS_PROFILE') => ({
  requestId,
  requestedFor: [identityId],
  requestType: 'GRANT_ACCESS',
  requestedItems: [{ type, id: itemId }],
});

let h: CliHarness;
let logLevel: string | undefined;

beforeAll(async () => {
  // The functions' own JSON logs would bury jest's output; the CLI's output is what is checked.
  logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'SILENT';
  h = await startCliHarness();
});

afterAll(async () => {
  await h?.stop();
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
});

/** POSTs of access requests SailPoint accepted (202). */
const acceptedPosts = () =>
  h.stack.sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests', status: 202 });

describe('help and errors', () => {
  test.each([
    [[]],
    [['status']],
    [['findings']],
    [['exemptions']],
    [['exemptions', 'list']],
    [['exemptions', 'add']],
    [['exemptions', 'remove']],
    [['exemptions', 'history']],
    [['dlq']],
    [['dlq', 'list']],
    [['dlq', 'redrive']],
    [['absences']],
    [['sweep']],
    [['audit']],
  ])('iga %j --help prints its usage and exits 0', async (command) => {
    const result = await h.iga(...command, '--help');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Usage: iga/);
  });

  test('a wrong option, an unknown id and a missing target exit non-zero with a message', async () => {
    const wrong = await h.iga('findings', '--state', 'bogus');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/choose one of open, closed, all/);

    const unknown = await h.iga('status', 'HR-NOPE', '--json');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no access-request message with requestId or message id "HR-NOPE"/);

    const io = { out: () => undefined, err: jest.fn() };
    expect(await run(['findings'], io, { env: {} })).toBe(1);
    expect(io.err.mock.calls.join('')).toMatch(/no target: pass --stack <name> .* or --local/);
  });
});

describe('access requests: status, dead letters, redrive', () => {
  test('a redrive moves the dead letters back with their attributes, twice is harmless, and nothing is POSTed twice', async () => {
    const postsBefore = acceptedPosts();
    await h.send('access', grant('HR-2001', FARID, AWS_READONLY));
    await h.stack.drain();
    expect(acceptedPosts() - postsBefore).toBe(1);

    // The approver is broken: SailPoint refuses every new access request, so HR-2002 is dead-lettered.
    h.stack.sandbox.faults.inject({
      method: 'POST',
      path: '/beta/access-requests',
      status: 400,
      times: Infinity,
    });
    await h.send('access', grant('HR-2002', HUGO, SALESFORCE_USER, 'ENTITLEMENT'), {
      producer: { DataType: 'String', StringValue: 'hr-system' },
      batch: { DataType: 'Number', StringValue: '42' },
    });
    await h.send('access', grant('HR-2001', FARID, AWS_READONLY)); // HR re-sends: a duplicate, no POST
    await h.stack.drain();
    expect(acceptedPosts() - postsBefore).toBe(1);

    const status = await h.iga('status', 'HR-2002', '--json');
    expect(status.code).toBe(0);
    const failed = status.json<{ messages: { status: string; reason: string }[] }>().messages;
    expect(failed).toEqual([expect.objectContaining({ status: 'failed' })]);

    const listed = await h.iga('dlq', 'list', 'access', '--json');
    expect(listed.code).toBe(0);
    const dead = listed.json<DeadLetterView[]>();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      requestId: 'HR-2002',
      origin: 'function',
      receiveCount: 1,
      attributes: ['producer', 'batch'],
    });
    expect(dead[0]!.reason).toMatch(/400/);
    expect(Date.parse(dead[0]!.firstAttempt!)).toBeLessThanOrEqual(Date.parse(dead[0]!.lastAttempt!));
    // Listing left it there, visible: the human table shows it too.
    const table = await h.iga('dlq', 'list', 'access');
    expect(table.out).toMatch(/HR-2002 .*SailPoint/);

    // Fixed. A dry run says what it would move and moves nothing.
    h.stack.sandbox.faults.clear();
    const dry = await h.iga('dlq', 'redrive', 'access', '--dry-run', '--json');
    expect(dry.json<RedriveResult>()).toMatchObject({ moved: [], wouldMove: [{ requestId: 'HR-2002' }] });
    expect((await h.iga('dlq', 'list', 'access', '--json')).json<unknown[]>()).toHaveLength(1);

    // An earlier redrive that crashed after sending and before deleting: the message is in both queues.
    const copy = await peekDeadLetter();
    await h.stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: h.description.queues.access.queueUrl,
        MessageBody: copy.body,
        MessageAttributes: copy.originalAttributes,
      }),
    );
    await h.stack.drain();
    expect(acceptedPosts() - postsBefore).toBe(2); // HR-2002 submitted now

    const redrive = await h.iga('dlq', 'redrive', 'access', '--filter', 'requestId=HR-2002', '--json');
    expect(redrive.code).toBe(0);
    expect(redrive.json<RedriveResult>().moved).toEqual([
      expect.objectContaining({ requestId: 'HR-2002', sourceMessageId: dead[0]!.sourceMessageId }),
    ]);
    // Back on the work queue with the producer's body and attributes.
    const requeued = await h.stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: h.description.queues.access.queueUrl,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 30,
      }),
    );
    expect(requeued.Messages).toHaveLength(1);
    expect(JSON.parse(requeued.Messages![0]!.Body!)).toEqual(
      grant('HR-2002', HUGO, SALESFORCE_USER, 'ENTITLEMENT'),
    );
    expect(requeued.Messages![0]!.MessageAttributes).toEqual({
      producer: { DataType: 'String', StringValue: 'hr-system' },
      batch: { DataType: 'Number', StringValue: '42' },
    });
    await h.stack.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: h.description.queues.access.queueUrl,
        Entries: [{ Id: '0', ReceiptHandle: requeued.Messages![0]!.ReceiptHandle!, VisibilityTimeout: 0 }],
      }),
    );
    await h.stack.drain();

    // Run twice: nothing left to move. SailPoint accepted each unit once.
    const again = await h.iga('dlq', 'redrive', 'access', '--json');
    expect(again.json<RedriveResult>().moved).toEqual([]);
    expect(acceptedPosts() - postsBefore).toBe(2);
    const units = h.stack.sandbox.state.accessRequests.records.filter((r) =>
      [FARID, HUGO].includes(r.requestedFor.id),
    );
    expect(units.map((r) => `${r.requestedFor.id}/${r.item.id}`).sort()).toEqual(
      [`${FARID}/${AWS_READONLY}`, `${HUGO}/${SALESFORCE_USER}`].sort(),
    );

    // Its status: refused, then submitted (the copy), then a duplicate (the redrive), with SailPoint's id.
    const history = (await h.iga('status', 'HR-2002', '--json')).json<{
      messages: { status: string; units: { accessRequestIds?: string[] }[] }[];
    }>().messages;
    expect(history.map((m) => m.status)).toEqual(['failed', 'submitted', 'duplicate']);
    expect(history[1]!.units[0]!.accessRequestIds).toEqual([expect.any(String)]);
    const text = await h.iga('status', 'HR-2001');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/SUBMITTED after 1 receive/);
    expect(text.out).toMatch(/DUPLICATE after 1 receive/);
  });
});

async function peekDeadLetter() {
  const got = await h.stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: h.description.queues.access.deadLetterQueueUrl,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      VisibilityTimeout: 0,
    }),
  );
  return readDeadLetter(got.Messages![0]!);
}

describe('stale-token sweep: findings and exemptions', () => {
  test('an exemption added with iga is honoured by the next sweep, and its removal by the one after', async () => {
    const first = await h.iga('sweep', '--json');
    expect(first.code).toBe(0);
    const run1 = first.json<RunResult & { summary: SweepSummary }>();
    expect(run1.ok).toBe(true);
    const flagged = run1.summary.newFindings.find((t) => t.status === 'FLAGGED')!;
    expect(flagged).toBeDefined();

    const findings = await h.iga('findings', '--workflow', 'stale-token', '--state', 'FLAGGED', '--json');
    const rows = findings.json<(Finding & { workflow: string; subject: string })[]>();
    expect(rows.map((f) => f.subjectId)).toContain(flagged.tokenId);
    expect(rows.every((f) => f.status === 'FLAGGED' && f.workflow === 'stale-token')).toBe(true);
    const owner = rows.find((f) => f.subjectId === flagged.tokenId)!.owner!.name!;
    const byOwner = (await h.iga('findings', '--owner', owner.toUpperCase(), '--json')).json<Finding[]>();
    expect(byOwner.length).toBeGreaterThan(0);
    expect(byOwner.every((f) => f.owner?.name === owner)).toBe(true);

    const missingReason = await h.iga('exemptions', 'add', '--token-id', flagged.tokenId);
    expect(missingReason.code).toBe(1);
    expect(missingReason.err).toMatch(/--reason/);
    const badDate = await h.iga(
      'exemptions',
      'add',
      '--token-id',
      flagged.tokenId,
      '--reason',
      'x',
      '--expires',
      '2027-02-30',
    );
    expect(badDate.code).toBe(1);
    expect(badDate.err).toMatch(/not a calendar date/);

    const added = await h.iga(
      'exemptions',
      'add',
      '--token-id',
      flagged.tokenId,
      '--reason',
      'break-glass, reviewed quarterly',
      '--expires',
      '2099-12-31',
      '--json',
    );
    expect(added.code).toBe(0);
    expect(added.json<StoredExemption>()).toMatchObject({
      id: `tokenId:${flagged.tokenId}`,
      status: 'ACTIVE',
      reason: 'break-glass, reviewed quarterly',
      expires: '2099-12-31',
      addedBy: expect.stringMatching(/^local:/),
    });
    const twice = await h.iga('exemptions', 'add', '--token-id', flagged.tokenId, '--reason', 'again');
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/already active/);

    const second = (await h.iga('sweep', '--json')).json<RunResult & { summary: SweepSummary }>();
    expect(second.summary.counts.exempted).toBe(1);
    const exempt = (await h.iga('findings', '--state', 'EXEMPT', '--json')).json<Finding[]>();
    expect(exempt.find((f) => f.subjectId === flagged.tokenId)).toMatchObject({
      status: 'EXEMPT',
      reason: 'break-glass, reviewed quarterly',
    });
    const listed = (await h.iga('exemptions', 'list', '--json')).json<StoredExemption[]>();
    expect(listed.map((e) => e.id)).toEqual([`tokenId:${flagged.tokenId}`]);

    const removed = await h.iga(
      'exemptions',
      'remove',
      `tokenId:${flagged.tokenId}`,
      '--reason',
      'token rotated',
    );
    expect(removed.code).toBe(0);
    const third = (await h.iga('sweep', '--json')).json<RunResult & { summary: SweepSummary }>();
    expect(third.summary.counts.escalated).toBe(1); // EXEMPT → FLAGGED again
    expect((await h.iga('exemptions', 'list', '--json')).json<unknown[]>()).toEqual([]);
    expect((await h.iga('exemptions', 'list', '--all', '--json')).json<StoredExemption[]>()).toEqual([
      expect.objectContaining({ status: 'REMOVED', removedBy: expect.stringMatching(/^local:/) }),
    ]);
    const history = (await h.iga('exemptions', 'history', '--json')).json<
      { action: string; reason: string }[]
    >();
    expect(history.map((e) => [e.action, e.reason])).toEqual([
      ['added', 'break-glass, reviewed quarterly'],
      ['removed', 'token rotated'],
    ]);
  });

  test('a dry-run sweep lists, and a failed sweep exits 1 with what it could say', async () => {
    const dry = await h.iga('sweep', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/succeeded \(dry-run\)/);

    // SailPoint refuses the credential: the sweep stops at once and reports why.
    h.stack.sandbox.faults.inject({ path: '/beta/personal-access-tokens', status: 403, times: Infinity });
    try {
      const failed = await h.iga('sweep', '--json');
      expect(failed.code).toBe(1);
      const result = failed.json<RunResult>();
      expect(result.ok).toBe(false);
      expect(result).toMatchObject({ summary: { status: 'failed' } });
      expect(result.ok === false && result.error).toMatch(/refused the sweep's credentials/);
    } finally {
      h.stack.sandbox.faults.clear();
    }
  });
});

describe('Cognigy audit and absences', () => {
  test('iga audit runs the audit; its findings are listed', async () => {
    const audit = await h.iga('audit', '--json');
    expect(audit.code).toBe(0);
    const summary = audit.json<{ ok: true; summary: CognigyAuditSummary }>().summary;
    expect(summary.preflight.passed).toBe(true);
    expect(summary.privilege.overPrivileged.length).toBeGreaterThan(0);
    const findings = (await h.iga('findings', '--workflow', 'cognigy', '--json')).json<
      { workflow: string }[]
    >();
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.workflow === 'cognigy')).toBe(true);
    const table = await h.iga('audit');
    expect(table.out).toMatch(/preflight passed/);
  });

  test('iga absences shows the recorded absence and the configurations held', async () => {
    const start = new Date(Date.now() + 7 * 86_400_000);
    await h.send('absence', {
      eventId: 'hr-cli-1',
      type: 'ABSENCE_STARTED',
      absenceId: 'LV-CLI-1',
      identityId: FARID,
      startDate: start.toISOString(),
      endDate: new Date(start.getTime() + 14 * 86_400_000).toISOString(),
      occurredAt: new Date().toISOString(),
    });
    await h.stack.drain();
    const result = await h.iga('absences', FARID, '--json');
    expect(result.code).toBe(0);
    const body = result.json<{
      absences: { absenceId: string; status: string; configurations: object; recheck: string }[];
    }>();
    expect(body.absences).toEqual([
      expect.objectContaining({ absenceId: 'LV-CLI-1', status: 'ACTIVE', recheck: 'nothing to do' }),
    ]);
    expect(Object.keys(body.absences[0]!.configurations).length).toBeGreaterThan(0);
    const none = await h.iga('absences', HUGO);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no absences recorded/);
  });
});

describe('npx iga, a real process', () => {
  const execFileAsync = promisify(execFile);
  const root = join(__dirname, '..', '..', '..');

  test('npx iga --help works from a clone, and the same binary reads the local stack (--json parses, exit 1 on failure)', async () => {
    const help = await execFileAsync('npx', ['iga', '--help'], { cwd: root });
    expect(help.stdout).toMatch(/^Usage: iga/);
    expect(help.stdout).toMatch(/dlq/);

    // The same binary against the local stack, through its state file.
    const findings = await execFileAsync('npx', ['iga', '--local', 'findings', '--state', 'all', '--json'], {
      cwd: root,
      env: { ...process.env, IGA_LOCAL_STATE: h.stateFile },
    });
    expect(Array.isArray(JSON.parse(findings.stdout))).toBe(true);

    await expect(
      execFileAsync('npx', ['iga', '--local', 'status', 'HR-NOPE'], {
        cwd: root,
        env: { ...process.env, IGA_LOCAL_STATE: h.stateFile },
      }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no access-request message/) });
  });
});
