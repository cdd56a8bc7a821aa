/**
 * Runs the sandbox tenant on its own until Ctrl-C, e.g. to try API calls by hand:
 *
 *   PORT=7100 npx tsx bin/sandbox.ts
 *
 * PORT defaults to a free port. The printed client credentials are the sandbox's own fixed demo
 * credentials from sandbox/fixtures/default-tenant.json, not secrets of any real tenant.
 */
import { startSandbox } from '../sandbox/server';

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`PORT must be 0..65535, got "${value}"`);
  return port;
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ port: portFromEnv(process.env.PORT) });
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`SailPoint ISC sandbox tenant listening on ${sandbox.url}`);
  print(`  token endpoint  POST ${sandbox.url}/oauth/token (grant_type=client_credentials)`);
  for (const client of sandbox.state.clients.values()) {
    const kind = client.identityId
      ? `PAT-like, identity ${client.identityId}`
      : 'API client, no user context';
    print(`  client          ${client.clientId} / ${client.clientSecret}  (${kind})`);
  }
  print(
    `  seed            ${sandbox.state.identities.size} identities, ${sandbox.state.personalAccessTokens.size} personal access tokens`,
  );
  print('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    print(`\nStopping after ${sandbox.requestLog.entries.length} requests.`);
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `sandbox stop failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sandbox failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
