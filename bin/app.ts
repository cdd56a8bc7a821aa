/**
 * CDK app entry (cdk.json: `npx tsx bin/app.ts`). Synthesizes offline: no AWS credentials or
 * lookups are needed; without `account`/`region` settings the stack is environment-agnostic and the
 * CLI's credentials choose where `cdk deploy` goes. The app itself is lib/app.ts.
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { StackConfigError } from '../lib/stack-config';

try {
  buildApp(new App());
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
