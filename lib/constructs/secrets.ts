/**
 * Secrets the stack only refers to: operators create them (docs/deployment.md), so their values
 * never pass through CDK, the template or an environment variable. The function receives the
 * secret's name or ARN and reads it at run time.
 */
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** A name, a complete ARN (ending in -XXXXXX) or a partial ARN. */
export function referenceSecret(scope: Construct, id: string, nameOrArn: string): ISecret {
  if (!nameOrArn.startsWith('arn:')) return Secret.fromSecretNameV2(scope, id, nameOrArn);
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
