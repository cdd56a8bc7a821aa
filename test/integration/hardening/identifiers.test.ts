/**
 * Ids end up in URL paths, and `encodeURIComponent('..')` is `..`: an id of `.` or `..` would change
 * which API path is called (`/beta/reassignment-configurations/../access-requests`). Over the wire
 * (sandbox tenant, fauxqs, dynalite): the contracts refuse anything but a SailPoint id, so such a
 * message is dead-lettered with the reason and no HTTP request at all; and the shared HTTP layer
 * refuses a dot segment in a path, whatever produced it, before any request.
 */
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import {
  SailPointClient,
  SailPointValidationError,
  getReassignmentConfiguration,
  deleteReassignmentConfiguration,
} from '../../../functions/shared/sailpoint';
import * as z from 'zod';
import { CognigyClient, CognigyError } from '../../../functions/shared/cognigy';
import { PAT_CLIENT } from '../sandbox/helpers';
import { absenceEvent, absenceHarness, PEOPLE, type AbsenceHarness } from '../absence-reassignment/harness';
import { grant, person, role, startHarness, type Harness } from '../access-provisioning/harness';

describe('a `..` id in a message', () => {
  let absence: AbsenceHarness | undefined;
  let access: Harness | undefined;
  afterEach(async () => {
    await absence?.stop();
    await access?.stop();
    absence = access = undefined;
  });

  test.each([
    ['identityId', { identityId: '..' }],
    ['delegateId', { delegateId: '..' }],
    ['identityId, percent-encoded', { identityId: '%2e%2e' }],
  ])(
    'absence event with a dot-segment %s: dead-lettered with the reason, no HTTP request',
    async (field, override) => {
      absence = await absenceHarness();
      await absence.deliver(absenceEvent(override));
      const dead = await absence.deadLetters();
      expect(dead).toHaveLength(1);
      expect(dead[0]!.reason).toMatch(
        new RegExp(
          `^invalid absence event: ${field.split(',')[0]}: must be a SailPoint id: 32 hexadecimal characters`,
        ),
      );
      expect(absence.sandbox.requestLog.count()).toBe(0); // not even a token request
      expect(absence.configurations(PEOPLE.FARID)).toEqual({});
    },
  );

  test('access request naming `..` as identity or item: dead-lettered with the reason, no HTTP request', async () => {
    access = await startHarness();
    const [badIdentity, badItem] = await access.send(
      grant(['..'], [{ type: 'ROLE', id: role(1) }]),
      grant([person(1)], [{ type: 'ROLE', id: '..' }]),
    );
    await access.drain();
    const dead = await access.deadLetters();
    expect(new Map(dead.map((d) => [d.sourceMessageId, d.reason]))).toEqual(
      new Map([
        [badIdentity, expect.stringMatching(/^invalid message: requestedFor\[0\]: must be a SailPoint id/)],
        [badItem, expect.stringMatching(/^invalid message: requestedItems\[0\]\.id: must be a SailPoint id/)],
      ]),
    );
    // No API request. (The workflow checks its credential's user context at the start of every batch:
    // that token request is the only one.)
    expect(access.sandbox.requestLog.count({ path: /^\/(beta|v3)\// })).toBe(0);
    expect(access.sandbox.requestLog.filter().map((r) => r.path)).toEqual(['/oauth/token']);
  });
});

describe('the shared HTTP layer refuses a dot segment in any path parameter', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ rateLimit: false });
  });
  afterAll(async () => sandbox.stop());
  beforeEach(() => sandbox.requestLog.clear());

  test.each(['..', '.', ''])(
    'SailPoint: %p as a path parameter is refused before any request (no token, no API call)',
    async (id) => {
      const client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT });
      const error = await getReassignmentConfiguration(client, id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SailPointValidationError);
      expect((error as Error).message).toMatch(
        /^SailPoint getReassignmentConfiguration \(GET \/beta\/reassignment-configurations\/.*\) failed: refused before sending: the path has (a dot segment|an empty path segment)/,
      );
      const deleted = await deleteReassignmentConfiguration(client, id, 'ACCESS_REQUESTS').catch(
        (e: unknown) => e,
      );
      expect(deleted).toBeInstanceOf(SailPointValidationError);
      expect(client.stats).toMatchObject({ httpRequests: 0, tokenRequests: 0 });
      expect(sandbox.requestLog.count()).toBe(0);
    },
  );

  test('a well-formed id still goes through', async () => {
    const client = new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT });
    await getReassignmentConfiguration(client, PEOPLE.FARID).catch(() => undefined);
    expect(sandbox.requestLog.count({ path: `/beta/reassignment-configurations/${PEOPLE.FARID}` })).toBe(1);
  });

  test('Cognigy: a dot segment is refused before any request', async () => {
    const requests: string[] = [];
    const client = new CognigyClient({
      apiUrl: `${sandbox.url}/new`,
      apiKey: 'key',
      fetch: async (input, init) => {
        requests.push(String(input));
        return fetch(input, init);
      },
    });
    const error = await client
      .get({ operation: 'probe', path: '/v2.0/users/../acl', responseSchema: z.unknown() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyError);
    expect((error as Error).message).toContain("refused before sending: the path has a dot segment ('..')");
    expect(requests).toEqual([]);
  });
});
