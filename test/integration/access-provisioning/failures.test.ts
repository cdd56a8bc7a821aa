/**
 * Crashes, rate limits, server errors and refusals: nothing is lost, nothing is submitted twice,
 * a 429 waits for its Retry-After, a permanent refusal goes to the DLQ with SailPoint's text.
 */
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  API_CLIENT,
  grant,
  person,
  role,
  startHarness,
  visibilityChanges as changesOf,
  type Harness,
} from './harness';

const isAccessRequestPost = (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
  String(input).endsWith('/beta/access-requests') && init?.method === 'POST';

describe('access provisioning: failures', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('after a POST whose answer was lost, the redelivery reconciles instead of submitting again', async () => {
    let dropped = 0;
    // The sandbox accepts the request, then the connection "drops" before we read the 202.
    const droppingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (isAccessRequestPost(input, init) && dropped++ === 0) {
        await response.text();
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      }
      return response;
    };
    h = await startHarness({ fetch: droppingFetch });
    const [id] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));

    const first = await h.pollOnce();
    expect(first).toEqual({ received: 1, failed: 1 }); // outcome unknown → retried, claim kept
    expect((await h.outcome(id!))?.status).toBe('retrying');
    await h.drain();

    expect(h.allPosts()).toBe(1); // never re-POSTed
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units[0]!.detail).toContain("found in SailPoint's access request status");
    expect(outcome?.units[0]!.accessRequestIds).toHaveLength(1);
    expect(h.sandbox.requestLog.count({ method: 'GET', path: '/v3/access-request-status' })).toBe(1);
  });

  it('lets another message take over the claim of an invocation that died after its POST only after the lease, and reconciles it', async () => {
    let now = Date.now();
    let posts = 0;
    let unfreeze!: () => void;
    const frozen = new Promise<void>((resolve) => (unfreeze = resolve));
    let arrived!: () => void;
    const postArrived = new Promise<void>((resolve) => (arrived = resolve));
    // The first POST reaches SailPoint, then its Lambda freezes (killed, as far as anyone can tell).
    const freezingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (isAccessRequestPost(input, init) && posts++ === 0) {
        await response.text();
        arrived();
        await frozen;
        throw new TypeError('fetch failed');
      }
      return response;
    };
    h = await startHarness({ fetch: freezingFetch, clock: () => now, settings: { claimLeaseMs: 60_000 } });
    const body = grant([person(8)], [{ type: 'ROLE', id: role(8) }]);
    const [first] = await h.send(body);
    const dying = h.pollOnce(h.newInstance().handler, 1);
    await postArrived;

    const [early] = await h.send(body);
    await h.pollOnce(h.newInstance().handler, 1);
    expect((await h.outcome(early!))?.units[0]!.detail).toContain('in flight');

    now += 61_000; // the dead attempt's lease and its invocation's deadline have passed
    const [late] = await h.send(body);
    await h.pollOnce(h.newInstance().handler, 10); // the early one again, and the late one
    expect(h.allPosts()).toBe(1);
    const outcome = await h.outcome(early!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units[0]!.detail).toContain('submitted by an earlier attempt');
    expect((await h.outcome(late!))?.status).toBe('duplicate');

    unfreeze(); // the frozen invocation ends; its message's redelivery finds its unit submitted
    await dying;
    await h.skipRetryDelays();
    await h.drain();
    expect(h.allPosts()).toBe(1);
    expect((await h.outcome(first!))?.status).toBe('submitted');
  });

  it('after a POST whose success could not be recorded (store failure), the redelivery does not POST again', async () => {
    let failures = 0;
    h = await startHarness({
      wrapDoc: (doc) => {
        doc.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { UpdateExpression?: string };
            const isUpdate = /^Update(Item)?Command$/.test(context.commandName ?? '');
            if (isUpdate && input.UpdateExpression?.includes(':submitted') && failures++ === 0) {
              throw Object.assign(new Error('DynamoDB unavailable'), { name: 'InternalServerError' });
            }
            return next(args);
          },
          { step: 'initialize' },
        );
        return doc;
      },
    });
    const [id] = await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    // A duplicate arrives while the first message waits for its retry: it is in flight, not resubmitted.
    await h.pollOnce();
    const [dup] = await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    await h.drain();

    expect(failures).toBeGreaterThanOrEqual(1);
    expect(h.allPosts()).toBe(1);
    expect((await h.outcome(id!))?.status).toBe('submitted');
    expect((await h.outcome(dup!))?.status).toBe('duplicate');
  });

  it('honours Retry-After on a 429: the message becomes visible again only after it, then succeeds', async () => {
    h = await startHarness({ visibilityTimeoutSeconds: 30 });
    const visibilityChanges: { VisibilityTimeout?: number; ReceiptHandle?: string }[] = [];
    h.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        visibilityChanges.push(...changesOf(context.commandName, args.input));
        return next(args);
      },
      { step: 'initialize', name: 'recordVisibility' },
    );
    h.sandbox.faults.inject({
      method: 'POST',
      path: '/beta/access-requests',
      status: 429,
      retryAfterSeconds: 7,
    });
    const [id] = await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));

    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    expect(visibilityChanges.map((c) => c.VisibilityTimeout)).toEqual([7]);
    const waiting = await h.outcome(id!);
    expect(waiting?.status).toBe('retrying');
    expect(waiting?.reason).toContain('rate limited while submitting the access request; retry after 7 s');
    // Not hammering: the message is not visible before its Retry-After.
    const early = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.queueUrl, WaitTimeSeconds: 0 }));
    expect(early.Messages ?? []).toHaveLength(0);

    // Fast-forward the 7 s instead of sleeping.
    await h.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.queueUrl,
        ReceiptHandle: visibilityChanges[0]!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await h.drain();
    expect(h.allPosts()).toBe(2);
    expect(h.acceptedPosts()).toBe(1);
    expect((await h.outcome(id!))?.status).toBe('submitted');
  });

  it('gives up after the last receive when SailPoint keeps answering 5xx, dead-lettering with the reason', async () => {
    h = await startHarness({ maxReceiveCount: 3 });
    h.sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503, times: Infinity });
    const [id] = await h.send(grant([person(4)], [{ type: 'ROLE', id: role(4) }]));
    await h.drain();

    const dead = await h.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.sourceMessageId).toBe(id);
    expect(dead[0]!.reason).toMatch(
      /^gave up after 3 attempts: SailPoint createAccessRequest \(POST \/beta\/access-requests\) failed: HTTP 503/,
    );
    // One POST per receive, each after reconciling that the previous one did not go through; the
    // last receive looks its own POST up at once (it cannot leave that to a redelivery).
    expect(h.allPosts()).toBe(3);
    expect(h.sandbox.requestLog.count({ method: 'GET', path: '/v3/access-request-status' })).toBe(3);
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('failed');
    expect(outcome?.history.map((e) => e.status)).toEqual(['retrying', 'retrying', 'failed']);
  });

  it("dead-letters a message SailPoint refuses with the API's error text, without failing its batch neighbours", async () => {
    h = await startHarness();
    // Both messages are for the same identity, so they are coalesced into one request first.
    const [good, bad] = await h.send(
      grant([person(5)], [{ type: 'ROLE', id: role(5) }]),
      grant([person(5)], [{ type: 'ROLE', id: '0000000000000000000000000000dead' }]),
    );
    await h.drain();

    expect(h.allPosts()).toBe(3); // the coalesced one (400), then one per message
    expect(h.acceptedPosts()).toBe(1);
    expect((await h.outcome(good!))?.status).toBe('submitted');
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([bad]);
    expect(dead[0]!.reason).toMatch(
      /^SailPoint refused it: SailPoint createAccessRequest .* HTTP 400 \[400\.1 Bad Request Content\]/,
    );
    expect(dead[0]!.reason).toContain(
      'requestedItems[0]: ROLE 0000000000000000000000000000dead was not found',
    );
    expect((await h.outcome(bad!))?.status).toBe('failed');
    // The refused unit is not held as submitted: a corrected resend is not a duplicate.
    expect(
      await h.store.readSlots([
        { key: 'x', identityId: person(5), itemType: 'ROLE', itemId: '0000000000000000000000000000dead' },
      ]),
    ).toEqual(new Map());
  });

  it('says at start that a credential without user context cannot request access, and keeps the messages', async () => {
    h = await startHarness({ credentials: API_CLIENT, maxReceiveCount: 2 });
    const [id] = await h.send(grant([person(6)], [{ type: 'ROLE', id: role(6) }]));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    expect(h.allPosts()).toBe(0);
    await h.drain();
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([id]);
    expect(dead[0]!.reason).toBe(
      'gave up after 2 attempts: the SailPoint credential sandbox-api-client has no user context: its token ' +
        'response carries no identity_id, so it is a pure API client, and SailPoint refuses access requests from ' +
        'API clients. Use the client id/secret of a personal access token (PAT) of an identity allowed to request ' +
        'access for others.',
    );
  });

  it("records the access request ids of the 202 when present and copes with the beta page's empty {}", async () => {
    h = await startHarness();
    h.sandbox.state.accessRequests.responseBody = 'empty';
    const [id] = await h.send(grant([person(7)], [{ type: 'ROLE', id: role(7) }]));
    await h.drain();
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units[0]!.accessRequestIds).toBeUndefined();
  });
});
