/**
 * Reading a synthesized template in terms a reviewer cares about: which statements a function's
 * role has, what a resource reference points at, which AWS operations a bundle's own code calls.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { entryOf, esbuildOptionsFor, REPO_ROOT } from '../../lib/bundling';

type Json = Record<string, unknown>;

export const logicalId = (construct: IConstruct): string => {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(element).getLogicalId(element);
};

/** A resource reference as text: `Ref X` → `X`, `GetAtt X.Arn` → `X.Arn`, joins concatenated. */
export function refText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if ('Ref' in v) return String(v.Ref);
  if ('Fn::GetAtt' in v) return (v['Fn::GetAtt'] as string[]).join('.');
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(refText).join(sep);
  }
  if ('Fn::Select' in v || 'Fn::Split' in v) return JSON.stringify(v);
  return JSON.stringify(v);
}

export interface Statement {
  readonly actions: string[];
  readonly resources: string[];
  readonly effect: string;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every Allow/Deny statement in identity policies attached to the role (inline and AWS::IAM::Policy). */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const documents: Json[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::IAM::Policy') {
      const roles = asArray(resource.Properties.Roles as unknown[]).map(refText);
      if (roles.includes(roleLogicalId)) documents.push(resource.Properties.PolicyDocument as Json);
    }
  }
  const role = resources[roleLogicalId];
  for (const policy of asArray(role?.Properties.Policies as Json[]))
    documents.push(policy.PolicyDocument as Json);
  expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  return documents.flatMap((doc) =>
    asArray(doc.Statement as Json[]).map((s) => ({
      actions: asArray(s.Action as string[]).sort(),
      resources: asArray(s.Resource).map(refText),
      effect: String(s.Effect),
    })),
  );
}

/** The role a function runs with. */
export function functionRole(template: Template, functionLogicalId: string): string {
  const fn = template.toJSON().Resources[functionLogicalId] as { Properties: { Role: unknown } };
  return refText(fn.Properties.Role).replace(/\.Arn$/, '');
}

/** SDK command classes → the IAM action each needs. */
const COMMAND_ACTIONS: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  GetItemCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  PutItemCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  UpdateItemCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  DeleteItemCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchGetItemCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
  BatchWriteItemCommand: 'dynamodb:BatchWriteItem',
  TransactWriteCommand: 'dynamodb:TransactWriteItems',
  TransactGetCommand: 'dynamodb:TransactGetItems',
  SendMessageCommand: 'sqs:SendMessage',
  SendMessageBatchCommand: 'sqs:SendMessage',
  ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatchCommand: 'sqs:ChangeMessageVisibility',
  DeleteMessageCommand: 'sqs:DeleteMessage',
  DeleteMessageBatchCommand: 'sqs:DeleteMessage',
  PublishCommand: 'sns:Publish',
  PublishBatchCommand: 'sns:Publish',
  GetTopicAttributesCommand: 'sns:GetTopicAttributes',
  PutObjectCommand: 's3:PutObject',
  GetSecretValueCommand: 'secretsmanager:GetSecretValue',
};

/**
 * The IAM actions a function's own code needs: the SDK commands constructed (`new XCommand(`) in
 * the repo files that its bundle actually contains (esbuild's metafile, same options as the stack).
 */
export async function actionsCalledBy(dir: string): Promise<Set<string>> {
  const result = await build({
    ...esbuildOptionsFor(entryOf(dir), path.join(REPO_ROOT, 'cdk.out', 'action-scan', dir, 'index.js')),
    write: false,
    metafile: true,
    sourcemap: false,
    minify: false,
  });
  const actions = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (input.includes('node_modules') || !input.startsWith('functions/')) continue;
    const source = readFileSync(path.join(REPO_ROOT, input), 'utf8');
    for (const [, command] of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
      const action = COMMAND_ACTIONS[command!];
      if (!action) throw new Error(`${input} constructs ${command}: add its IAM action to COMMAND_ACTIONS`);
      actions.add(action);
    }
  }
  return actions;
}
