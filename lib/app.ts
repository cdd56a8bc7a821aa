/**
 * The CDK app: the stack from the settings in the CDK context, the `application` tag, and the AWS
 * Solutions checks (cdk-nag) on every synth. bin/app.ts runs it; tests build it the same way.
 */
import { App, Tags, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IgaAutopilotStack } from './iga-autopilot-stack';
import { stackConfigFromContext, type StackConfig } from './stack-config';

/**
 * The stack's environment: only what the settings pin. Unpinned, the stack stays environment-agnostic
 * (`${AWS::Region}` in ARNs and asset locations); CDK_DEFAULT_REGION is deliberately not used: the CLI
 * sets it to us-east-1 when nothing is configured, which would bake that region into the template.
 */
export function stackEnvironment(config: StackConfig): Environment | undefined {
  if (!config.account && !config.region) return undefined;
  return {
    ...(config.account ? { account: config.account } : {}),
    ...(config.region ? { region: config.region } : {}),
  };
}

/** Adds the stack to `app` (settings from its context; a bad one throws StackConfigError). */
export function buildApp(app: App): IgaAutopilotStack {
  const config = stackConfigFromContext(app.node.getAllContext());
  const stack = new IgaAutopilotStack(app, config.stackName, {
    config,
    description: 'IGA Autopilot: identity-governance automations for SailPoint Identity Security Cloud',
    env: stackEnvironment(config),
  });
  Tags.of(app).add('application', 'iga-autopilot');
  // The AWS Solutions checks run on every synth: a finding without a written acknowledgement fails it.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
