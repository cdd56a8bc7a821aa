/**
 * Where the stale-token sweep writes the governance report on its schedule (stack setting
 * `report.enabled`, off by default; docs/deployment.md): a private, versioned bucket, encrypted with
 * the AWS-managed KMS key (key use shows in CloudTrail; no key grants needed), TLS 1.2+ only, server
 * access logs in a second bucket.
 *
 * Each run writes the same keys (reports/report.html, reports/csv/*.csv: functions/shared/report/files.ts),
 * so the current version is the latest report and earlier reports are older versions, which the
 * lifecycle rule deletes `report.retentionDays` after they were replaced (access logs after as many
 * days). Fixed keys let the grant name exact objects: the sweep may put those objects and nothing else,
 * and may Scan the two tables the report reads besides its own (functions/shared/report/gather.ts).
 * No other principal gets anything.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULT_REPORT_PREFIX, reportObjectKeys } from '../../functions/shared/report/files';
import { TABLES } from '../../functions/shared/tables';

/** Key prefix of the report objects (the sweep's REPORT_PREFIX default). */
export const REPORT_PREFIX = DEFAULT_REPORT_PREFIX;

/** What only the report needs: test/infra checks the sweep gets these exactly when the report is on. */
export const REPORT_ACTIONS = ['dynamodb:Scan', 's3:PutObject'] as const;

export interface ReportBucketProps {
  /** Days a report (and an access-log object) is kept. */
  readonly retentionDays: number;
  /** "In the period" of each report, in days (REPORT_PERIOD_DAYS). */
  readonly periodDays: number;
  /** Keep the buckets when the stack is deleted (the data.retainOnDelete setting). */
  readonly retainOnDelete: boolean;
}

export class ReportBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ReportBucketProps,
  ) {
    super(scope, id);
    // Log delivery through a bucket policy for S3's logging service, not the legacy ACL, so both
    // buckets can refuse ACLs (the flag is on for new CDK apps; set here for this construct's buckets).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const common = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED, // no ACLs
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Deleting a bucket that still holds objects fails: empty it first (docs/deployment.md).
      removalPolicy: props.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    const retention = Duration.days(props.retentionDays);
    // S3 delivers server access logs only to a bucket encrypted with S3-managed keys.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...common,
      encryption: BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: retention }],
    });
    this.bucket = new Bucket(this, 'Reports', {
      ...common,
      encryption: BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports-bucket/',
      lifecycleRules: [
        {
          id: 'ExpireReplacedReports',
          noncurrentVersionExpiration: retention,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }

  /** Lets the sweep write reports: its settings, PutObject on the report's objects, Scans of the other tables. */
  attachTo(
    sweep: LambdaFunction,
    tables: { readonly accessRequests: ITable; readonly absences: ITable },
  ): void {
    sweep.addEnvironment('REPORT_BUCKET', this.bucket.bucketName);
    sweep.addEnvironment('REPORT_PREFIX', REPORT_PREFIX);
    sweep.addEnvironment('REPORT_PERIOD_DAYS', String(this.props.periodDays));
    sweep.addEnvironment(TABLES.accessRequests.envVar, tables.accessRequests.tableName);
    sweep.addEnvironment(TABLES.absences.envVar, tables.absences.tableName);
    Grant.addToPrincipal({
      grantee: sweep,
      actions: ['s3:PutObject'],
      resourceArns: reportObjectKeys(REPORT_PREFIX).map((key) => this.bucket.arnForObjects(key)),
    });
    // The tables themselves, not their indexes: the report scans each once per run.
    Grant.addToPrincipal({
      grantee: sweep,
      actions: ['dynamodb:Scan'],
      resourceArns: [tables.accessRequests.tableArn, tables.absences.tableArn],
    });
  }
}
