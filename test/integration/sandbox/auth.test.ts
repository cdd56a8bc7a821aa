import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { API_CLIENT, PAT_CLIENT, get, manualClock, requestToken } from './helpers';

describe('sandbox OAuth token endpoint and bearer check', () => {
  const clock = manualClock('2025-06-01T12:00:00.000Z');
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ now: clock.now, tokenTtlSeconds: 60 });
  });
  afterAll(() => sandbox.stop());

  it('issues a token with user context to the PAT-like client', async () => {
    const response = await requestToken(sandbox, PAT_CLIENT);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 60,
      scope: 'sp:scopes:all',
      tenant_id: sandbox.state.tenant.tenantId,
      identity_id: '2c9180aa000000000000000000000014',
      authorities: expect.arrayContaining(['ORG_ADMIN']),
      client_id: 'sandbox-pat-client',
      jti: expect.any(String),
    });
    // A JWT carrying the documented claims.
    const [, payload] = (body.access_token as string).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      identity_id: body.identity_id,
      client_id: 'sandbox-pat-client',
      jti: body.jti,
    });
    expect(claims.exp).toBe(Math.floor(clock.now().getTime() / 1000) + 60);
  });

  it('issues a token without identity_id to the pure API client', async () => {
    const response = await requestToken(sandbox, API_CLIENT);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.client_id).toBe('sandbox-api-client');
    expect(body).not.toHaveProperty('identity_id');
    expect(body.authorities).toEqual(['API']);
  });

  it('accepts the parameters as query parameters and as multipart form data', async () => {
    const query = new URLSearchParams({ grant_type: 'client_credentials', ...toParams(API_CLIENT) });
    expect((await fetch(`${sandbox.url}/oauth/token?${query}`, { method: 'POST' })).status).toBe(200);
    const form = new FormData();
    for (const [k, v] of query) form.set(k, v);
    expect((await fetch(`${sandbox.url}/oauth/token`, { method: 'POST', body: form })).status).toBe(200);
  });

  it('answers 401 invalid_client to a wrong secret or an unknown client', async () => {
    for (const client of [
      { ...PAT_CLIENT, clientSecret: 'wrong' },
      { clientId: 'nobody', clientSecret: 'sandbox-pat-secret' },
    ]) {
      const response = await requestToken(sandbox, client);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: 'invalid_client',
        error_description: expect.any(String),
      });
    }
  });

  it('answers 400 to an unsupported grant type', async () => {
    const response = await requestToken(sandbox, PAT_CLIENT, 'password');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('answers 401 in the gateway shape without a bearer token or with an unknown one', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const response = await get(sandbox, '/beta/personal-access-tokens', token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/^JWT validation failed: /) });
    }
    const search = await get(sandbox, '/v3/search/identities/x', undefined, {
      headers: { authorization: 'Basic abc' },
    });
    expect(search.status).toBe(401);
  });

  it('answers 401 "JWT is expired" once the token lifetime has passed on the sandbox clock', async () => {
    const { access_token: token } = (await (await requestToken(sandbox, PAT_CLIENT)).json()) as {
      access_token: string;
    };
    expect((await get(sandbox, '/beta/personal-access-tokens', token)).status).toBe(200);
    clock.advance(60_000);
    const response = await get(sandbox, '/beta/personal-access-tokens', token);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'JWT validation failed: JWT is expired' });
  });

  it('does not ask for a bearer token outside the SailPoint API paths', async () => {
    const response = await get(sandbox, '/new/v2.0/unknown');
    expect(response.status).toBe(404);
  });

  it('mints tokens directly for tests that are not about authentication', async () => {
    const token = sandbox.issueToken('sandbox-api-client');
    expect((await get(sandbox, '/v3/search/identities/2c9180aa000000000000000000000001', token)).status).toBe(
      200,
    );
    expect(() => sandbox.issueToken('nobody')).toThrow(/unknown client/);
  });
});

function toParams(client: { clientId: string; clientSecret: string }) {
  return { client_id: client.clientId, client_secret: client.clientSecret };
}
