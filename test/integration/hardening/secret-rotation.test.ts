/**
 * A rotated secret is picked up without recycling the instance, over the wire: the SailPoint
 * credential from Secrets Manager (Powertools Parameters against a loopback Secrets Manager) and the
 * sandbox tenant's token endpoint; the Cognigy key from a key file and the sandbox's Cognigy API.
 *
 * - at once, when the token endpoint (SailPoint) or the API (Cognigy, 401) rejects the old credential;
 * - after the max age, when the old one still works (so a new PAT's own rate budget is used promptly).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listPersonalAccessTokens } from '../../../functions/shared/sailpoint';
import {
  createSailPointClientFromEnv,
  sailPointCredentialSource,
} from '../../../functions/shared/sailpoint/from-settings';
import { parseSettings, sailPointSettings } from '../../../functions/shared/config';
import {
  cognigyConnector,
  cognigyCredentialSource,
  cognigySettings,
  createCognigyClient,
  getCurrentUserAcl,
  CognigyAuthError,
} from '../../../functions/shared/cognigy';
import { COGNIGY_SANDBOX_KEYS } from '../../../sandbox/cognigy/state';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { startSecretsManager, type LocalSecretsManager } from '../../support/secrets-manager';

const PAT_IDENTITY = '2c9180aa000000000000000000000014';
const OLD = { clientId: 'pat-before-rotation', clientSecret: 'old-secret-value' };
const NEW = { clientId: 'pat-after-rotation', clientSecret: 'new-secret-value' };
const SECRET_ID = 'iga-autopilot/sailpoint';

describe('SailPoint credential rotation (Secrets Manager)', () => {
  let sandbox: Sandbox;
  let secrets: LocalSecretsManager;

  beforeEach(async () => {
    // Rate limit off: this is about credentials, and the few calls made would never reach it.
    sandbox = await startSandbox({
      rateLimit: false,
      clients: [
        { ...OLD, identityId: PAT_IDENTITY, authorities: ['ORG_ADMIN'] },
        { ...NEW, identityId: PAT_IDENTITY, authorities: ['ORG_ADMIN'] },
      ],
    });
    secrets = await startSecretsManager();
    secrets.put(SECRET_ID, OLD);
  });
  afterEach(async () => {
    jest.useRealTimers();
    await sandbox.stop();
    await secrets.stop();
  });

  const clientFor = async () => {
    const env = {
      SAILPOINT_API_URL: sandbox.url,
      SAILPOINT_CREDENTIALS_SECRET_ID: SECRET_ID,
      SAILPOINT_SECRET_MAX_AGE_SECONDS: '300',
    };
    const settings = parseSettings(sailPointSettings, env);
    return createSailPointClientFromEnv(env, {
      credentials: sailPointCredentialSource(env, settings, secrets.provider()),
    });
  };
  const tokenRequests = () =>
    sandbox.requestLog
      .filter({ method: 'POST', path: '/oauth/token' })
      .map((r) => `${r.clientId ?? '?'} ${r.status}`);

  /** The operator's rotation: a new PAT in the secret, the old one deleted in SailPoint (its tokens die with it). */
  const rotate = () => {
    secrets.put(SECRET_ID, NEW);
    sandbox.state.clients.delete(OLD.clientId);
    for (const [token, issued] of sandbox.state.accessTokens) {
      if (issued.clientId === OLD.clientId) sandbox.state.accessTokens.delete(token);
    }
  };

  test('a rejected credential makes the client re-read the secret at once and carry on with the new one', async () => {
    const client = await clientFor();
    await listPersonalAccessTokens(client, { ownerId: 'me' });
    expect(secrets.reads(SECRET_ID)).toBe(1);

    rotate();
    // Same instance, well within the max age: the API rejects the old token, the token endpoint the
    // old credential; the secret is read again and the call succeeds with the new credential.
    await expect(listPersonalAccessTokens(client, { ownerId: 'me' })).resolves.toEqual(expect.any(Array));
    // (The sandbox logs no client id for a client it does not know.)
    expect(tokenRequests()).toEqual([`${OLD.clientId} 200`, '? 401', `${NEW.clientId} 200`]);
    expect(secrets.reads(SECRET_ID)).toBe(2);
    expect((await client.tokenInfo()).clientId).toBe(NEW.clientId);
  });

  test('without a rejection, the new credential is used once the max age has passed', async () => {
    // Only Date is faked (Powertools ages its cache by it); timers and I/O stay real.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    const client = await clientFor();
    await listPersonalAccessTokens(client, { ownerId: 'me' });
    secrets.put(SECRET_ID, NEW); // the old PAT still works: nothing is rejected

    jest.setSystemTime(Date.now() + 200_000);
    await listPersonalAccessTokens(client, { ownerId: 'me' });
    expect(tokenRequests()).toEqual([`${OLD.clientId} 200`]); // within the max age: the cached credential
    expect(secrets.reads(SECRET_ID)).toBe(1);

    jest.setSystemTime(Date.now() + 101_000);
    await listPersonalAccessTokens(client, { ownerId: 'me' });
    expect(secrets.reads(SECRET_ID)).toBe(2);
    expect(tokenRequests()).toEqual([`${OLD.clientId} 200`, `${NEW.clientId} 200`]);
  });

  test('a credential rejected and unchanged fails with the client id named and the secret not shown', async () => {
    const client = await clientFor();
    sandbox.state.clients.delete(OLD.clientId); // revoked, and nobody updated the secret
    const error = await listPersonalAccessTokens(client, { ownerId: 'me' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /rejected the client credentials for client id 'pat-before-rotation'/,
    );
    expect((error as Error).message).not.toContain(OLD.clientSecret);
    expect(secrets.reads(SECRET_ID)).toBe(2); // read, then re-read once on the rejection
    expect(tokenRequests()).toEqual(['? 401']);
  });
});

describe('Cognigy key rotation (key file)', () => {
  let sandbox: Sandbox;
  afterEach(async () => sandbox.stop());

  test('a 401 makes the next run re-read the key at once; otherwise the max age decides', async () => {
    sandbox = await startSandbox({ rateLimit: false });
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'cognigy-key-')), 'key');
    writeFileSync(keyFile, COGNIGY_SANDBOX_KEYS.leastPrivilege);
    const env = { COGNIGY_API_URL: `${sandbox.url}/new`, COGNIGY_API_KEY_FILE: keyFile };
    const settings = parseSettings(cognigySettings, env);
    let now = 1_000_000;
    const builds: string[] = [];
    const connector = cognigyConnector(
      cognigyCredentialSource(settings, env, { now: () => now }),
      (credential) => {
        builds.push(credential.apiKey.slice(0, 8));
        const client = createCognigyClient(settings, credential, { sleep: async () => {} });
        return { cognigy: client, credential, stats: client.stats };
      },
    );
    const run = async () => getCurrentUserAcl((await connector.connect()).cognigy);

    await run();
    await run();
    expect(builds).toEqual(['c0g1lp7a']); // one client while the key is the same

    // Rotation: a new key for the same user in the file, the old one revoked in Cognigy.
    const userId = sandbox.state.cognigy.findByKey(COGNIGY_SANDBOX_KEYS.leastPrivilege)!.user.id;
    const rotated = 'c0g1rt' + 'a'.repeat(58);
    sandbox.state.cognigy.addApiKey(userId, { name: 'iga-autopilot (rotated)', key: rotated });
    sandbox.state.cognigy.removeApiKey(userId, COGNIGY_SANDBOX_KEYS.leastPrivilege);
    writeFileSync(keyFile, rotated);

    const refused = await run().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CognigyAuthError);
    expect((refused as CognigyAuthError).status).toBe(401);
    connector.credentialRejected(); // what the audit handler does on a 401
    await expect(run()).resolves.toBeDefined(); // no time has passed: re-read because it was refused
    expect(builds).toEqual(['c0g1lp7a', 'c0g1rtaa']);

    // A later rotation that the old key survives is picked up after the max age (300 s).
    const third = 'c0g1th' + 'b'.repeat(58);
    sandbox.state.cognigy.addApiKey(userId, { name: 'iga-autopilot (third)', key: third });
    writeFileSync(keyFile, third);
    now += 299_000;
    await run();
    expect(builds).toHaveLength(2);
    now += 2_000;
    await run();
    expect(builds).toEqual(['c0g1lp7a', 'c0g1rtaa', 'c0g1thbb']);
  });
});
