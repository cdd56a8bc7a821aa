/**
 * CDK app entry (cdk.json: `npx tsx bin/app.ts`). Synthesizes offline: no AWS credentials or
 * lookups are needed; without an account/region the stack is environment-agnostic and the CLI's
 * credentials choose where `cdk deploy` goes.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IgaAutopilotStack } from '../lib/iga-autopilot-stack';
import { StackConfigError, stackConfigFromContext, type StackConfig } from '../lib/stack-config';

const app = new App();

let config: StackConfig;
try {
  config = stackConfigFromContext(app.node.getAllContext());
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

new IgaAutopilotStack(app, config.stackName, {
  config,
  description: 'IGA Autopilot: identity-governance automations for SailPoint Identity Security Cloud',
  env: {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: config.region ?? process.env.CDK_DEFAULT_REGION,
  },
});
Tags.of(app).add('application', 'iga-autopilot');

// The AWS Solutions checks run on every synth: a finding without a written acknowledgement fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
