/**
 * What `npm start` (bin/local.ts) hands to each workflow's local demo: the sandbox tenant and the
 * emulators already running, tables created from the shared definitions, and the environment
 * variables a Lambda function would get from the stack, pointing at all of them.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Env } from '../functions/shared/config';
import type { Sandbox } from '../sandbox/server';
import type { TableKey } from '../functions/shared/tables';

export interface LocalEnvironment {
  readonly sandbox: Sandbox;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly sqs: SQSClient;
  /** Physical table names, created from functions/shared/tables.ts. */
  readonly tables: Readonly<Record<TableKey, string>>;
  /**
   * Environment for the functions: SAILPOINT_API_URL (the sandbox), SAILPOINT_CLIENT_ID/SECRET (the
   * sandbox's PAT-like client), COGNIGY_API_URL/COGNIGY_API_KEY, table env vars, AWS_* for the emulators.
   */
  readonly env: Env;
  /** Prints one line for the person running `npm start`. */
  readonly print: (line: string) => void;
}

/** Each workflow contributes one of these (local/demos/<workflow>.ts). */
export type LocalDemo = (local: LocalEnvironment) => Promise<void>;
