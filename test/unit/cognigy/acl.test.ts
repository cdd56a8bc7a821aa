import { CognigyClient, CognigyResponseError, getCurrentUserAcl } from '../../../functions/shared/cognigy';

const BASE = 'https://api-trial.cognigy.ai/new';

/** A client whose every request is answered 200 with `body` and a trace id. */
function answering(body: unknown) {
  const fetchImpl = (async () =>
    new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'x-trace-id': 'api--acl-1' },
    })) as unknown as typeof fetch;
  return new CognigyClient({ apiUrl: BASE, apiKey: 'k', fetch: fetchImpl, rateLimit: false });
}

describe('getCurrentUserAcl', () => {
  it.each([[{}], [{ something: 'else' }]])(
    'refuses a 200 without either ACL field (%j) as a response-shape error with the traceId',
    async (body) => {
      const error = await getCurrentUserAcl(answering(body)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CognigyResponseError);
      expect((error as CognigyResponseError).traceId).toBe('api--acl-1');
      expect(JSON.stringify((error as CognigyResponseError).issues)).toContain(
        'neither organisationWide nor projectWide',
      );
    },
  );

  it('reads a response with only one of the fields, the other counting as empty', async () => {
    const orgOnly = await getCurrentUserAcl(
      answering({ organisationWide: { rights: { apiKeys: { read: true, delete: false } } } }),
    );
    expect([...orgOnly.organisationWide.rights]).toEqual(['apiKeys.read']);
    expect(orgOnly.projectWide.size).toBe(0);
    expect(orgOnly.traceId).toBe('api--acl-1');

    const projectsOnly = await getCurrentUserAcl(
      answering({ projectWide: { p1: { roles: ['projectAdmin'] } } }),
    );
    expect(projectsOnly.organisationWide.rights.size).toBe(0);
    expect([...projectsOnly.projectWide.get('p1')!.roles]).toEqual(['projectAdmin']);
  });
});
