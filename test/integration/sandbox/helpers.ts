/** Shared bits for the sandbox's over-the-wire tests. */
import { loadDefaultSeed, type SandboxSeed } from '../../../sandbox/seed';
import type { Sandbox } from '../../../sandbox/server';

export const PAT_CLIENT = { clientId: 'sandbox-pat-client', clientSecret: 'sandbox-pat-secret' } as const;
export const API_CLIENT = { clientId: 'sandbox-api-client', clientSecret: 'sandbox-api-secret' } as const;

/** A settable clock for `now`. */
export function manualClock(start: string) {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
  };
}

export function requestToken(
  sandbox: Sandbox,
  client: { clientId: string; clientSecret: string },
  grantType = 'client_credentials',
) {
  return fetch(`${sandbox.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: grantType,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  });
}

export async function fetchToken(
  sandbox: Sandbox,
  client: { clientId: string; clientSecret: string } = PAT_CLIENT,
): Promise<string> {
  const response = await requestToken(sandbox, client);
  if (response.status !== 200) throw new Error(`token request failed: ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export function get(sandbox: Sandbox, pathAndQuery: string, token?: string, init: RequestInit = {}) {
  return fetch(`${sandbox.url}${pathAndQuery}`, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
}

/** Asserts an ISC ErrorResponseDto body. */
export function expectErrorResponseDto(body: unknown, detailCode: string) {
  expect(body).toEqual({
    detailCode,
    trackingId: expect.stringMatching(/^[0-9a-f]{32}$/),
    messages: [{ locale: 'en-US', localeOrigin: 'DEFAULT', text: expect.any(String) }],
    causes: expect.arrayContaining([]), // any array: fetch builds it outside jest's realm, so not any(Array)
  });
}

/** `member(n)`: ids of extra identities that sort in creation order. */
export const member = (n: number) => `5ea4c000000000000000000000000${String(n).padStart(3, '0')}`;

/** The default tenant plus `count` members (member(1)…), managed by `managerId`, holding `accessOf(n)`. */
export function seedWithMembers(
  count: number,
  accessOf: (n: number) => string[],
  managerId: string | null = null,
): SandboxSeed {
  const seed = loadDefaultSeed();
  for (let n = 1; n <= count; n++) {
    seed.identities.push({
      id: member(n),
      name: `member.${n}`,
      firstName: 'Member',
      lastName: String(n),
      displayName: `Member ${n}`,
      email: null,
      managerId,
      inactive: false,
      createdDaysAgo: 10,
      attributes: {},
      access: accessOf(n),
    });
  }
  return seed as SandboxSeed;
}
