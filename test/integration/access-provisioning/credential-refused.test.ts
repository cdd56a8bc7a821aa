/**
 * A 403 from SailPoint is the credential's, not the message's (the shared failure policy,
 * docs/handlers.md): valid messages are not dead-lettered at once. The batch stops its SailPoint
 * calls after the refusal, says so loudly (an error line, the CredentialRefused metric), and its
 * messages wait on the queue with a reason naming the rights the refused call needs — submitted once
 * the credential is fixed, or dead-lettered with that reason on their last receive.
 *
 * The 403 is SailPoint's own answer over the wire (the sandbox's fault injection answers POST
 * /beta/access-requests with the spec's 403 ErrorResponseDto): what a tenant answers when the PAT
 * passes our preflight but lacks the right in a way its token does not show (e.g. the tenant's access
 * request configuration does not let its identity request for others).
 */
import { silentLog, type LogSink } from '../../../functions/shared/observability';
import { withRightsPreflight, WORKFLOW_OPERATIONS } from '../../../functions/shared/sailpoint/rights';
import { disableMetricsOutput } from '../../support/powertools';
import {
  grant,
  person,
  recordingHandler,
  REQUESTER_ID,
  role,
  startHarness,
  TEST_SETTINGS,
  type Harness,
} from './harness';

const FORBIDDEN = { method: 'POST', path: '/beta/access-requests', status: 403 } as const;
const RIGHTS_NAMED =
  'the credential lacks a right createAccessRequest needs: a personal access token (user context), not an ' +
  'API client; scope idn:access-request:manage or idn:access-request-self:manage; user level ORG_ADMIN or USER';

/** Two messages that need two requests (different request-level clientMetadata: not coalesced). */
const twoRequests = () => [
  grant([person(1)], [{ type: 'ROLE', id: role(1) }], { clientMetadata: { ticket: 'T-1' } }),
  grant([person(2)], [{ type: 'ROLE', id: role(2) }], { clientMetadata: { ticket: 'T-2' } }),
];

describe('access provisioning: a credential SailPoint refuses (403)', () => {
  let h: Harness;
  disableMetricsOutput();
  afterEach(async () => h?.stop());

  it('keeps valid messages on the queue, stops the batch after one refused POST, and says so with the missing right', async () => {
    h = await startHarness({ maxReceiveCount: 3 });
    h.sandbox.faults.inject({ ...FORBIDDEN, times: Infinity });
    const errors: { message: string; detail: Record<string, unknown> }[] = [];
    const log: LogSink = {
      ...silentLog,
      error: (message: string, detail?: Record<string, unknown>) =>
        errors.push({ message, detail: detail ?? {} }),
    };
    const { handler, recorded } = recordingHandler(h, {
      sailpoint: h.client,
      log,
      // One SailPoint call at a time, so that "after the refusal" is one order (concurrent POSTs
      // already on their way are sent either way).
      settings: { ...TEST_SETTINGS, concurrency: 1 },
    });
    const ids = await h.send(...twoRequests());

    expect(await h.pollOnce(handler)).toEqual({ received: 2, failed: 2 });
    expect(await h.deadLetters()).toEqual([]); // not dead-lettered at once
    expect(h.allPosts()).toBe(1); // the second request was not sent after the first was refused
    for (const id of ids) {
      const outcome = await h.outcome(id);
      expect(outcome?.status).toBe('retrying');
      expect(outcome?.reason).toContain(RIGHTS_NAMED);
    }
    expect(errors).toEqual([
      expect.objectContaining({
        message: "the SailPoint credential was refused: this batch's SailPoint calls stopped",
        detail: expect.objectContaining({ reason: expect.stringContaining('HTTP 403 [403 Forbidden]') }),
      }),
    ]);
    expect(recorded.CredentialRefused).toBe(1);
    expect(recorded.FailedMessages ?? 0).toBe(0);

    // Still refused on every receive: on the last one each is dead-lettered, saying which right is missing.
    await h.drain(handler);
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId).sort()).toEqual([...ids].sort());
    for (const { reason } of dead) {
      expect(reason).toMatch(
        // SailPoint's 403, or (the request after it in a batch) "not sent, … stopped after a refusal: <the 403>"
        /^gave up after 3 attempts: the SailPoint credential was refused while submitting the access request: SailPoint createAccessRequest \(POST \/beta\/access-requests\) failed: (not sent, this batch's SailPoint calls stopped after a refusal: SailPoint createAccessRequest \(POST \/beta\/access-requests\) failed: )?HTTP 403 \[403 Forbidden\] The server understood the request but refuses to authorize it\./,
      );
      expect(reason).toContain(RIGHTS_NAMED);
    }
    expect(h.acceptedPosts()).toBe(0);
    expect(h.allPosts()).toBeLessThanOrEqual(3); // one refused POST per batch at most
  });

  it('submits the waiting messages once SailPoint stops refusing (the credential was fixed), none dead-lettered', async () => {
    h = await startHarness({ maxReceiveCount: 4, settings: { concurrency: 1 } });
    h.sandbox.faults.inject({ ...FORBIDDEN, times: 2 });
    const ids = await h.send(...twoRequests());

    await h.pollOnce();
    await h.pollOnce();
    expect(h.allPosts()).toBe(2); // one refused POST per batch
    await h.drain();

    expect(await h.deadLetters()).toEqual([]);
    for (const id of ids) expect((await h.outcome(id))?.status).toBe('submitted');
    expect(h.acceptedPosts()).toBe(2);
    expect(h.accessOf(person(1))).toContain(role(1));
  });

  it('counts a credential the rights preflight refuses the same way, before any API call', async () => {
    // A PAT of a HELPDESK identity: the status list needs ORG_ADMIN, which its token shows it lacks.
    const helpdesk = {
      clientId: 'helpdesk-pat',
      clientSecret: 'helpdesk-pat-secret',
      identityId: REQUESTER_ID,
      authorities: ['HELPDESK'],
    };
    h = await startHarness({ sandbox: { clients: [helpdesk] }, maxReceiveCount: 2 });
    const { handler, recorded } = recordingHandler(h, {
      sailpoint: withRightsPreflight(
        h.newInstance({ credentials: helpdesk }).client,
        WORKFLOW_OPERATIONS.accessProvisioning(),
      ),
    });
    const [id] = await h.send(grant([person(4)], [{ type: 'ROLE', id: role(4) }]));

    expect(await h.pollOnce(handler)).toEqual({ received: 1, failed: 1 });
    expect(recorded.CredentialRefused).toBe(1);
    await h.drain(handler);
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([id]);
    expect(dead[0]!.reason).toMatch(
      /^gave up after 2 attempts: .*lacks what access-provisioning needs: user level ORG_ADMIN/,
    );
    expect(h.sandbox.requestLog.count({ path: /^\/(beta|v3)\// })).toBe(0);
  });

  it('keeps dead-lettering at once what SailPoint refuses as invalid (400): only the credential waits', async () => {
    h = await startHarness();
    const [id] = await h.send(grant([person(3)], [{ type: 'ROLE', id: '0000000000000000000000000000dead' }]));
    await h.pollOnce();
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([id]);
    expect(dead[0]!.reason).toMatch(/^SailPoint refused it: .* HTTP 400/);
  });
});
