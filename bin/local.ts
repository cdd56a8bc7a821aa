/**
 * `npm start`: runs every workflow for real on the embedded default — the sandbox tenant and the
 * DynamoDB/SQS emulators, all in this process on loopback. No AWS account, no SailPoint tenant.
 *
 *   npm start                      all workflows
 *   npm start -- sweep access      only the named ones (sweep, access, absence, cognigy, triggers)
 *   npm run dev                    the same, then keeps serving until Ctrl-C (npm start -- --keep):
 *                                  the work queues stay polled by the real handlers and `iga --local`
 *                                  works on the stack (local/stack.ts)
 */
import { LOCAL_AWS_ENV } from '../local/emulators';
import type { LocalDemo } from '../local/environment';
import { DEFAULT_STATE_FILE, removeStateFile, startLocalStack, writeStateFile } from '../local/stack';
import { DEMO_EXEMPTIONS, staleTokenSweepDemo } from '../local/demos/stale-token-sweep';
import { accessProvisioningDemo } from '../local/demos/access-provisioning';
import { absenceReassignmentDemo } from '../local/demos/absence-reassignment';
import { cognigyAuditDemo } from '../local/demos/cognigy-audit';
import { eventTriggersDemo } from '../local/demos/event-triggers';

const DEMOS: Record<string, { title: string; run: LocalDemo }> = {
  sweep: { title: 'Stale personal-access-token sweep', run: staleTokenSweepDemo },
  access: { title: 'Queue-fed access provisioning', run: accessProvisioningDemo },
  absence: { title: 'HR absence events → reassignment configurations', run: absenceReassignmentDemo },
  cognigy: { title: 'Cognigy.AI credential audit', run: cognigyAuditDemo },
  triggers: {
    title: 'SailPoint event triggers → absences, access outcomes (EventBridge, local)',
    run: eventTriggersDemo,
  },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const requested = args.filter((a) => !a.startsWith('-'));
  const unknown = requested.filter((name) => !(name in DEMOS));
  if (unknown.length) {
    throw new Error(
      `unknown workflow(s): ${unknown.join(', ')}; choose from ${Object.keys(DEMOS).join(', ')}`,
    );
  }
  const selected = requested.length ? requested : Object.keys(DEMOS);

  const print = (line: string) => process.stdout.write(`${line}\n`);
  Object.assign(process.env, {
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_DEV: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  });
  const stack = await startLocalStack({
    // The demos' own queues: what they dead-lettered is there for `iga dlq` afterwards.
    queueNames: {
      access: { queue: 'access-provisioning', deadLetterQueue: 'access-provisioning-dlq' },
      absence: { queue: 'local-absence-events.fifo', deadLetterQueue: 'local-absence-events-dlq.fifo' },
    },
    // `iga --local sweep` then sees the exemptions the sweep demo configures (the read-only baseline).
    functionEnv: { STALE_TOKEN_EXEMPTIONS: JSON.stringify(DEMO_EXEMPTIONS) },
  });
  try {
    const local = stack.environment(print);
    print(`IGA Autopilot — local run on the embedded default`);
    print(`  sandbox tenant  ${stack.sandbox.url}`);
    print(`  DynamoDB        ${stack.dynamoEndpoint} (dynalite)`);
    print(`  SQS/SNS         ${stack.sqsEndpoint} (fauxqs)`);
    for (const name of selected) {
      const demo = DEMOS[name]!;
      print('');
      print(`━━ ${demo.title} ━━`);
      await demo.run(local);
    }
    print('');
    print(`SailPoint/Cognigy sandbox served ${stack.sandbox.requestLog.entries.length} requests in total.`);
    if (keep) await serveUntilStopped(stack, print);
  } finally {
    await stack.stop();
  }
}

/** `npm run dev`: pollers on the work queues, the state file for `iga --local`, until Ctrl-C. */
async function serveUntilStopped(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  print: (line: string) => void,
): Promise<void> {
  const description = await stack.provision();
  stack.startPollers((workflow, received, failed) =>
    print(
      `[${new Date().toISOString().slice(11, 19)}] ${workflow}: handled ${received} message(s)${failed ? `, ${failed} back for a retry` : ''}`,
    ),
  );
  const stateFile = process.env.IGA_LOCAL_STATE || DEFAULT_STATE_FILE;
  writeStateFile(description, stateFile);
  print('');
  print('The local stack keeps running (Ctrl-C stops it). Point `iga` at it with --local:');
  print('  npx iga --local findings');
  print('  npx iga --local status HR-1001');
  print('  npx iga --local dlq list access');
  print(`  (state file ${stateFile}; another path: IGA_LOCAL_STATE=<file> for both)`);
  print(`  access-request queue  ${description.queues.access.queueUrl}`);
  print(`  absence-event queue   ${description.queues.absence.queueUrl}`);
  print(
    `  (AWS CLI: AWS_ENDPOINT_URL=${stack.sqsEndpoint} for SQS/SNS, ${stack.dynamoEndpoint} for DynamoDB; credentials ${LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID}/${LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY})`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  print('\nStopping the local stack.');
  removeStateFile(stateFile);
}

main().catch((error: unknown) => {
  process.stderr.write(`\nnpm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
