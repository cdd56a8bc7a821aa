/**
 * The client secret (SailPoint) and the API key (Cognigy) go to the configured API URL, so its host
 * must be the service's, loopback (the sandbox), or listed explicitly. A disallowed host stops a
 * function at start, before its credential is read or anything is sent, with an error naming the
 * setting; and stops synth, naming the stack setting.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAbsenceReassignmentHandlerFromEnv } from '../../../functions/absence-reassignment/handler';
import { ConfigError } from '../../../functions/shared/config';
import { parseCognigyAuditSettings } from '../../../functions/cognigy-audit/settings';
import { parseStackConfig, StackConfigError } from '../../../lib/stack-config';

const QUEUE = {
  ABSENCES_TABLE: 'absences',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
};

describe('API host allow-lists', () => {
  test('a SailPoint function refuses a disallowed SAILPOINT_API_URL at start, before reading its credential', async () => {
    // A listener standing in for the foreign host: it must never be asked anything.
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const error = await createAbsenceReassignmentHandlerFromEnv({
        ...QUEUE,
        // nip.io-style name for 127.0.0.1: resolves to loopback, but is not a loopback name.
        SAILPOINT_API_URL: `https://127.0.0.1.nip.io:${port}`,
        SAILPOINT_CLIENT_ID: 'client',
        SAILPOINT_CLIENT_SECRET_FILE: '/nonexistent/secret', // reading it would be a different error
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        {
          setting: 'SAILPOINT_API_URL',
          message: expect.stringMatching(
            /^SAILPOINT_API_URL host 127\.0\.0\.1\.nip\.io is not an API host of the service \(\{tenant\}\.api\.identitynow\.com, .*add it to SAILPOINT_EXTRA_API_HOSTS/,
          ),
        },
      ]);
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });

  test('the Cognigy audit refuses a disallowed COGNIGY_API_URL at start', () => {
    const error = (() => {
      try {
        parseCognigyAuditSettings({
          FINDINGS_TABLE: 'f',
          COGNIGY_API_URL: 'https://cognigy.evil.example/new',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /COGNIGY_API_URL: COGNIGY_API_URL host cognigy\.evil\.example/,
    );
  });

  test('synth refuses a disallowed host, naming the stack setting; extraApiHosts lets a vanity domain through', () => {
    const problems = (input: object) => {
      try {
        parseStackConfig(input);
        return [];
      } catch (e) {
        return (e as StackConfigError).problems.map((p) => `${p.setting}: ${p.message}`);
      }
    };
    expect(problems({ sailPoint: { apiUrl: 'https://isc.corp.example' } })).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.sailPoint\.apiUrl: apiUrl host isc\.corp\.example is not an API host .*add it to igaAutopilot\.sailPoint\.extraApiHosts/,
      ),
    ]);
    expect(
      problems({ sailPoint: { apiUrl: 'https://isc.corp.example', extraApiHosts: 'isc.corp.example' } }),
    ).toEqual([]);
    expect(
      problems({ sailPoint: { tenant: 'acme' }, cognigy: { apiUrl: 'https://cognigy.corp.example/new' } }),
    ).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.cognigy\.apiUrl: igaAutopilot\.cognigy\.apiUrl host cognigy\.corp\.example .*add it to igaAutopilot\.cognigy\.extraApiHosts/,
      ),
    ]);
    expect(
      problems({
        sailPoint: { tenant: 'acme' },
        cognigy: { apiUrl: 'https://cognigy.corp.example/new', extraApiHosts: ['cognigy.corp.example'] },
      }),
    ).toEqual([]);
  });
});
