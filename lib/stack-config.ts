/**
 * Stack settings: one zod schema, read from the CDK context key `igaAutopilot` (cdk.json, or
 * cdk.context.json) with per-setting overrides on the command line:
 *
 *   npx cdk deploy -c igaAutopilot.sailPoint.tenant=acme -c igaAutopilot.accessProvisioning.maxConcurrency=4
 *
 * Every value is validated at synth time; a bad value stops `cdk synth` with a message that names
 * the setting (e.g. `igaAutopilot.staleTokenSweep.schedule: ...`). Defaults live here and only here;
 * docs/deployment.md lists them.
 */
import * as z from 'zod';
import { progressProblems } from '../functions/access-provisioning/progress';
import { accessProvisioningSettings } from '../functions/access-provisioning/settings';
import { DELEGATE_POLICIES } from '../functions/absence-reassignment/delegate-policy';
import { MAX_ALLOW_LIST_IDS } from '../functions/absence-reassignment/settings';
import { resolveSailPointApiUrl } from '../functions/shared/sailpoint/api-url';
import { SAILPOINT_ID_PATTERN } from '../functions/shared/sailpoint/ids';
import { eventTriggersConfigSchema } from './constructs/event-triggers-config';
import { integer, scheduleExpression } from './setting-values';
import {
  checkWorkflowSettings,
  instancesSharingCredential,
  perInstanceSailPointBudget,
  sailPointCredentialOf,
  SAILPOINT_WORKFLOWS,
  workflowsSharingCredential,
  type WorkflowName,
} from './function-environment';

export const CONTEXT_KEY = 'igaAutopilot';

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  constructor(readonly problems: readonly { setting: string; message: string }[]) {
    super(
      `Invalid stack configuration (CDK context "${CONTEXT_KEY}", see docs/deployment.md):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n'),
    );
  }
}

// --- value types that accept both JSON values (cdk.json) and strings (`-c key=value`) ---

const booleanValue = z
  .union([z.boolean(), z.enum(['true', 'false'], { error: 'must be true or false' })], {
    error: 'must be true or false',
  })
  .transform((v) => v === true || v === 'true');

const boolean = (def: boolean) => booleanValue.default(def);

/** A list given as a JSON array or as comma-separated text (`-c key=a,b`). */
const stringList = (item: z.ZodType<string, string>) =>
  z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(item));

/** A list of email addresses, given as a JSON array or as comma-separated text. */
const emailList = () => stringList(z.email({ error: 'must be an email address' })).default([]);

/** A Secrets Manager secret name, or its full/partial ARN. */
const secretRef = (def: string) =>
  z
    .string()
    .trim()
    .regex(
      /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/,
      {
        error: 'must be a Secrets Manager secret name (letters, digits, /_+=.@-) or a secret ARN',
      },
    )
    .default(def);

/** A secret reference that, unset, falls back to another setting (per-workflow credentials). */
const optionalSecretRef = () =>
  z
    .string()
    .trim()
    .regex(
      /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/,
      {
        error: 'must be a Secrets Manager secret name (letters, digits, /_+=.@-) or a secret ARN',
      },
    )
    .optional();

/**
 * Who may send to a work queue: IAM principal ARNs (roles or users; `*` allowed in the name part, as
 * in `aws:PrincipalArn`) or 12-digit account ids (every principal of that account, IAM permitting).
 */
export const PRODUCER_PATTERN =
  /^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)\/[A-Za-z0-9+=,.@_/*-]{1,512}))$/;
const producers = () =>
  stringList(
    z.string().regex(PRODUCER_PATTERN, {
      error: (issue) =>
        `"${String(issue.input).slice(0, 100)}" is not a principal: use a 12-digit account id or an IAM ARN ` +
        'such as arn:aws:iam::123456789012:role/hr-connector',
    }),
  ).optional();

/** Host names an API URL may additionally point at (custom or vanity domains). */
const hostList = () =>
  stringList(
    z
      .string()
      .toLowerCase()
      .regex(
        /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/,
        {
          error: (issue) =>
            `"${String(issue.input).slice(0, 100)}" is not a host name (e.g. isc.example.com)`,
        },
      ),
  ).default([]);

const timeZone = (def: string) =>
  z
    .string()
    .trim()
    .default(def)
    .refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { error: (issue) => `"${String(issue.input)}" is not an IANA time zone (e.g. UTC, Europe/Berlin)` },
    );

/** CloudWatch Logs accepts only these retention periods (days); 0 keeps logs forever. */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Pass-through workflow settings: keys are the workflow's env var names (see its settings.ts and
 * docs/<workflow>.md); objects and arrays are JSON-encoded. Checked against the workflow's own schema below.
 */
const workflowSettings = z
  .record(
    z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, { error: 'keys are environment variable names, e.g. STALE_AFTER_DAYS' }),
    z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  )
  .default({})
  .transform((settings) =>
    Object.fromEntries(
      Object.entries(settings).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    ),
  );

/** SQS caps a batch at 10 messages without a batching window; with one, at 10,000 (standard queues). */
const MAX_BATCH_WITHOUT_WINDOW = 10;

/** Settings of a queue-fed workflow: its event source mapping, function timeout and workflow settings. */
const sqsWorkflowShape = (defaults: {
  maxConcurrency: number;
  timeoutSeconds: number;
  batchSize: number;
  /** The largest batch allowed: 10,000 on a standard queue (SQS's limit), 10 on a FIFO queue. */
  maxBatchSize: number;
  maxBatchingWindowSeconds: number;
}) => ({
  /** Event source mapping maximumConcurrency: instances working the queue at once (SQS allows 2-1000). */
  maxConcurrency: integer(defaults.maxConcurrency, 2, 1000),
  /** Function timeout; the queue's visibility timeout is 6x this plus the batching window. */
  timeoutSeconds: integer(defaults.timeoutSeconds, 10, 900),
  /** Messages per invocation; more than 10 needs a batching window. */
  batchSize: integer(defaults.batchSize, 1, defaults.maxBatchSize),
  /** Wait up to this long to fill a batch (standard queues only: SQS FIFO has no batching window). */
  maxBatchingWindowSeconds: integer(defaults.maxBatchingWindowSeconds, 0, 300),
  /** This workflow's own SailPoint credential; unset: sailPoint.credentialsSecret. */
  credentialsSecret: optionalSecretRef(),
  /** Principals allowed to send to the queue; unset: whoever IAM allows (synth warns). */
  producers: producers(),
  settings: workflowSettings,
});

/** SQS's batching rule, checked here so the error names the settings (the CDK's own check does not). */
function checkBatching(
  s: { batchSize: number; maxBatchingWindowSeconds: number },
  ctx: z.RefinementCtx<unknown>,
): void {
  if (s.batchSize > MAX_BATCH_WITHOUT_WINDOW && s.maxBatchingWindowSeconds === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['batchSize'],
      message:
        `${s.batchSize} needs a batching window: SQS hands over more than ${MAX_BATCH_WITHOUT_WINDOW} messages ` +
        'only with maxBatchingWindowSeconds of at least 1 (set it, or lower batchSize to 10)',
    });
  }
}

export const stackConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, { error: 'must start with a letter: letters, digits and -' })
      .default('IgaAutopilot'),
    /** Pin the target account/region; unset = the CLI's current credentials decide at deploy time. */
    account: z
      .string()
      .regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' })
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'must be an AWS region such as eu-central-1' })
      .optional(),
    /**
     * Synthesize without a SailPoint tenant (template review, CI): the SailPoint functions then
     * refuse to start until one is set. Without it, a missing tenant stops synth.
     */
    allowIncomplete: boolean(false),
    /** CloudFormation termination protection: the stack cannot be deleted until it is turned off. */
    terminationProtection: boolean(false),
    /** Extra tags on every resource (`application: iga-autopilot` is always set). */
    tags: z
      .record(
        z.string().regex(/^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/u, {
          error: 'tag keys: 1-128 letters, digits, spaces and _.:/=+-@, not starting with "aws:"',
        }),
        z.string().regex(/^[\p{L}\p{Z}\p{N}_.:/=+@-]{0,256}$/u, {
          error: 'tag values: up to 256 letters, digits, spaces and _.:/=+-@',
        }),
      )
      .default({}),
    /** A managed policy (ARN, or name in the stack's account) set as permissions boundary of every role. */
    permissionsBoundary: z
      .string()
      .trim()
      .regex(/^(arn:aws[a-z-]*:iam::\d{12}:policy\/[A-Za-z0-9+=,.@_/-]{1,512}|[A-Za-z0-9+=,.@_-]{1,128})$/, {
        error: 'must be an IAM managed policy ARN or policy name',
      })
      .optional(),
    /**
     * Run the functions in these subnets with these security groups (e.g. a tenant that accepts API
     * calls only from fixed egress IPs behind a NAT gateway). The subnets need a route to the internet
     * (NAT) for SailPoint and to AWS APIs (NAT or VPC endpoints). Unset: no VPC.
     */
    vpc: z
      .object({
        subnetIds: stringList(
          z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: 'must be a subnet id (subnet-…)' }),
        ).pipe(z.array(z.string()).min(1, { error: 'name at least one subnet' })),
        securityGroupIds: stringList(
          z.string().regex(/^sg-[0-9a-f]{8,17}$/, { error: 'must be a security group id (sg-…)' }),
        ).pipe(
          z.array(z.string()).min(1, { error: 'name at least one security group' }).max(5, {
            error: 'Lambda allows at most 5 security groups',
          }),
        ),
      })
      .strict()
      .optional(),

    /** How EventBridge Scheduler and Lambda retry a scheduled run; what neither could run lands in the schedule DLQ. */
    schedules: z
      .object({
        /** Scheduler retries when it cannot invoke the function (throttled, function missing, permissions). */
        retryAttempts: integer(3, 0, 185),
        /** Lambda retries of a scheduled run that failed (its async invocation retries, 0-2). */
        functionRetryAttempts: integer(2, 0, 2),
        /** A scheduled run not started within this long is given up and dead-lettered. */
        maxEventAgeSeconds: integer(3600, 60, 21_600),
      })
      .strict()
      .prefault({}),

    sailPoint: z
      .object({
        /** Tenant name: the API is https://{tenant}.api.identitynow.com. */
        tenant: z.string().trim().optional(),
        /** Full API base URL; wins over `tenant`. Its host must be a SailPoint API host or in extraApiHosts. */
        apiUrl: z.string().trim().optional(),
        /** Hosts besides SailPoint's own API domains that apiUrl may name (a vanity or proxy domain). */
        extraApiHosts: hostList(),
        /**
         * Secret holding JSON {"clientId": "...", "clientSecret": "..."}; the credential of every SailPoint
         * workflow without its own `<workflow>.credentialsSecret`.
         */
        credentialsSecret: secretRef('iga-autopilot/sailpoint'),
        /**
         * Requests per 10 seconds, per API version, the functions sharing one credential may send to
         * the tenant, drawn from one shared schedule (functions/shared/sailpoint/shared-budget.ts).
         * ISC's gateway allows 100 per client id and API version per 10 s; calls spaced 10 s ÷ 95 apart
         * leave room for network jitter and a stray call of an operator's CLI.
         */
        requestsPer10s: integer(95, 1, 10_000),
      })
      .strict()
      .prefault({}),

    cognigy: z
      .object({
        /** Cognigy.AI API base URL with the /new prefix, e.g. https://api-trial.cognigy.ai/new. */
        apiUrl: z.string().trim().optional(),
        /** Hosts besides Cognigy's SaaS API hosts (api-*.cognigy.ai) that apiUrl may name (on-premises). */
        extraApiHosts: hostList(),
        /** Secret holding the Cognigy.AI API key. */
        apiKeySecret: secretRef('iga-autopilot/cognigy-api-key'),
      })
      .strict()
      .prefault({}),

    lambda: z
      .object({
        memoryMb: integer(256, 128, 10_240),
        logLevel: z
          .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be DEBUG, INFO, WARN or ERROR' })
          .default('INFO'),
        logRetentionDays: z.coerce
          .number()
          .default(90)
          .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
            error: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (0 = never expire)`,
          }),
        /**
         * Reserve concurrency 1 for the scheduled functions so an on-demand run never overlaps a
         * scheduled one. Accounts still at Lambda's initial limit of 10 cannot reserve any: set false.
         */
        reserveScheduledConcurrency: boolean(true),
        /**
         * X-Ray active tracing, recorded by Powertools Tracer in every handler (an invocation, its AWS
         * SDK calls, its calls to SailPoint and Cognigy). Off: no tracer is created at all.
         */
        tracing: boolean(false),
      })
      .strict()
      .prefault({}),

    queues: z
      .object({
        /** Receives before SQS moves a message to its dead-letter queue (our code dead-letters on the last one with a reason). */
        maxReceiveCount: integer(5, 1, 1000),
        /** Retention of source and dead-letter queues. */
        retentionDays: integer(14, 1, 14),
      })
      .strict()
      .prefault({}),

    alarms: z
      .object({
        /** Alarm when the oldest message in a work queue is older than this. */
        oldestMessageAgeSeconds: integer(900, 60, 1_209_600),
      })
      .strict()
      .prefault({}),

    notifications: z
      .object({
        /** Email addresses subscribed to both topics (findings and alarms); each must confirm. */
        emails: emailList(),
      })
      .strict()
      .prefault({}),

    data: z
      .object({
        /** Keep tables when the stack is deleted (recommended: they hold the audit trail). */
        retainOnDelete: boolean(true),
      })
      .strict()
      .prefault({}),

    staleTokenSweep: z
      .object({
        schedule: scheduleExpression('cron(0 6 * * ? *)'),
        timeZone: timeZone('UTC'),
        timeoutSeconds: integer(600, 10, 900),
        /** This workflow's own SailPoint credential; unset: sailPoint.credentialsSecret. */
        credentialsSecret: optionalSecretRef(),
        settings: workflowSettings,
      })
      .strict()
      .prefault({}),

    // 120 s: room for one SailPoint call's retries (60 s) and timeout (10 s) within a batch.
    // Batches of up to 1,000 filled for up to 5 s: the workflow coalesces as much of a batch as the
    // instance's budget can carry before the deadline and requeues the rest uncharged, so under a
    // backlog a large batch sends far fewer POSTs, and any batch makes progress (docs/access-provisioning.md).
    accessProvisioning: z
      .object(
        sqsWorkflowShape({
          maxConcurrency: 2,
          timeoutSeconds: 120,
          // ~300 POSTs coalesced from a backlog's 3,000 messages fit one invocation at the shared
          // budget; measured: 1.12 × the coalescing bound vs 1.29 × at 1,000 (docs/deployment.md).
          batchSize: 3000,
          maxBatchSize: 10_000,
          maxBatchingWindowSeconds: 5,
        }),
      )
      .strict()
      .superRefine(checkBatching)
      .prefault({}),
    absenceReassignment: z
      .object({
        ...sqsWorkflowShape({
          maxConcurrency: 2,
          timeoutSeconds: 120,
          batchSize: 10,
          maxBatchSize: 10,
          maxBatchingWindowSeconds: 0,
        }),
        /**
         * A FIFO queue grouped by person (MessageGroupId = identityId): one person's events are handled
         * one at a time, in HR's order (docs/absence-reassignment.md recommends it). The function is
         * correct on a standard queue too.
         */
        fifo: boolean(true),
        /**
         * When the function re-checks deferred absences (a later absence waiting while an earlier one
         * holds SailPoint's slot) and applies those whose slot has freed up. Daily, after absences
         * usually end and before the working day; rate(1 hour) narrows the gap for back-to-back absences.
         */
        recheckSchedule: scheduleExpression('cron(0 5 * * ? *)'),
        recheckTimeZone: timeZone('UTC'),
        /**
         * Who may receive an absent person's work (DELEGATE_POLICY): chain-or-peers (a manager above
         * them or a peer), allow-list (only delegateAllowList), any (whoever the event names).
         */
        delegatePolicy: z
          .enum(DELEGATE_POLICIES, { error: `must be one of ${DELEGATE_POLICIES.join(', ')}` })
          .default('chain-or-peers'),
        /** With delegatePolicy allow-list: the SailPoint identity ids that may cover (DELEGATE_ALLOW_LIST). */
        delegateAllowList: stringList(
          z
            .string()
            .toLowerCase()
            .regex(SAILPOINT_ID_PATTERN, {
              error: (issue) =>
                `"${String(issue.input).slice(0, 40)}" is not a SailPoint identity id (32 hexadecimal characters)`,
            }),
        )
          .pipe(
            z.array(z.string()).max(MAX_ALLOW_LIST_IDS, {
              error: `at most ${MAX_ALLOW_LIST_IDS} ids (they go into the function's 4 KB environment)`,
            }),
          )
          .default([]),
        /** Configurations end at most this many days after they take effect (MAX_ABSENCE_DAYS). */
        maxAbsenceDays: integer(180, 1, 3650),
      })
      .strict()
      .superRefine((s, ctx) => {
        if (s.delegatePolicy === 'allow-list' && s.delegateAllowList.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['delegateAllowList'],
            message: 'is required with delegatePolicy allow-list: the SailPoint identity ids that may cover',
          });
        }
        if (s.fifo && s.maxBatchingWindowSeconds > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['maxBatchingWindowSeconds'],
            message: 'SQS FIFO queues have no batching window: set it to 0, or fifo to false',
          });
        }
      })
      .prefault({}),

    /** ISC event triggers through EventBridge (lib/constructs/event-triggers-config.ts, docs/event-triggers.md); off by default. */
    eventTriggers: eventTriggersConfigSchema,
    /** The governance report the sweep writes to S3 on its schedule (docs/deployment.md). */
    report: z
      .object({
        /** Create the report bucket and let the sweep write report.html and CSVs there after each run. */
        enabled: boolean(false),
        /** Days each report (and the bucket's access logs) is kept before S3 deletes it. */
        retentionDays: integer(90, 1, 3650),
        /** "In the period" of a report: revoked and resolved tokens, access requests of the last N days. */
        periodDays: integer(30, 1, 366),
      })
      .strict()
      .prefault({}),

    cognigyAudit: z
      .object({
        /** Deploy the Cognigy.AI credential audit (on the sweep's schedule). Default: when cognigy.apiUrl is set. */
        enabled: booleanValue.optional(),
        timeoutSeconds: integer(300, 10, 900),
        settings: workflowSettings,
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type StackConfigInput = z.input<typeof stackConfigSchema>;

export function parseStackConfig(raw: unknown): StackConfig {
  const result = stackConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new StackConfigError(
      result.error.issues.map((issue) => ({
        setting: [CONTEXT_KEY, ...issue.path.map(String)].join('.'),
        message:
          issue.code === 'unrecognized_keys' ? `unknown setting(s) ${issue.keys.join(', ')}` : issue.message,
      })),
    );
  }
  const config = result.data;
  const problems: { setting: string; message: string }[] = [];

  const { tenant, apiUrl, extraApiHosts } = config.sailPoint;
  if (tenant || apiUrl) {
    try {
      resolveSailPointApiUrl({ tenant, apiUrl, extraHosts: extraApiHosts });
    } catch (error) {
      problems.push({
        setting: `${CONTEXT_KEY}.sailPoint.${apiUrl ? 'apiUrl' : 'tenant'}`,
        message: (error as Error).message
          .replace(/SAILPOINT_API_URL/g, 'apiUrl')
          .replace(/SAILPOINT_TENANT/g, 'tenant')
          .replace(/SAILPOINT_EXTRA_API_HOSTS/g, `${CONTEXT_KEY}.sailPoint.extraApiHosts`),
      });
    }
  } else if (!config.allowIncomplete) {
    // Without a tenant the SailPoint functions fail every run: refuse, unless that is intended.
    problems.push({
      setting: `${CONTEXT_KEY}.sailPoint.tenant`,
      message:
        'is required (or sailPoint.apiUrl): the SailPoint functions cannot run without it. ' +
        `Set it (-c ${CONTEXT_KEY}.sailPoint.tenant=<tenant>), or set ${CONTEXT_KEY}.allowIncomplete=true ` +
        'to synthesize an incomplete stack on purpose (docs/deployment.md)',
    });
  }

  // ISC limits each client id: the callers sharing one credential share its budget.
  for (const workflow of SAILPOINT_WORKFLOWS) {
    const sharing = workflowsSharingCredential(config, workflow);
    if (sharing[0] !== workflow || perInstanceSailPointBudget(config, workflow) >= 1) continue;
    problems.push({
      setting: `${CONTEXT_KEY}.sailPoint.requestsPer10s`,
      message:
        `${config.sailPoint.requestsPer10s} requests per 10 s cannot be shared by the ` +
        `${instancesSharingCredential(config, workflow)} concurrent SailPoint callers using credential ` +
        `${sailPointCredentialOf(config, workflow)} (${sharing.join(', ')}: each queue's maxConcurrency, ` +
        'the sweep, the absence re-check): raise it, lower maxConcurrency, or give a workflow its own credentialsSecret',
    });
  }

  problems.push(...accessProgressProblems(config));

  const workflows: WorkflowName[] = ['staleTokenSweep', 'accessProvisioning', 'absenceReassignment'];
  if (cognigyAuditEnabled(config)) workflows.push('cognigyAudit');
  for (const workflow of workflows) {
    problems.push(...checkWorkflowSettings(workflow, config, `${CONTEXT_KEY}.${workflow}.settings`));
  }

  if (problems.length > 0) {
    // One message per setting: a bad tenant would otherwise be reported again by each function's check.
    const first = new Map<string, { setting: string; message: string }>();
    for (const problem of problems) if (!first.has(problem.setting)) first.set(problem.setting, problem);
    throw new StackConfigError([...first.values()]);
  }
  return config;
}

/**
 * Access provisioning must make progress with any full batch: its batch size, timeout, time reserve,
 * and the per-instance SailPoint budget (the tenant budget shared by every concurrent caller) must
 * leave each invocation time and budget for at least one chunk of work
 * (functions/access-provisioning/progress.ts). The batching window only delays a batch: it takes
 * nothing from the invocation.
 */
function accessProgressProblems(config: StackConfig): { setting: string; message: string }[] {
  const reserve = accessProvisioningSettings.shape.TIME_RESERVE_SECONDS.safeParse(
    config.accessProvisioning.settings.TIME_RESERVE_SECONDS,
  );
  if (!reserve.success) return []; // reported by the workflow's own settings check
  const at = (path: string) => `${CONTEXT_KEY}.${path}`;
  return progressProblems(
    {
      timeoutSeconds: config.accessProvisioning.timeoutSeconds,
      timeReserveSeconds: reserve.data,
      batchSize: config.accessProvisioning.batchSize,
      requestsPer10s: perInstanceSailPointBudget(config, 'accessProvisioning'),
    },
    {
      timeoutSeconds: at('accessProvisioning.timeoutSeconds'),
      timeReserveSeconds: at('accessProvisioning.settings.TIME_RESERVE_SECONDS'),
      batchSize: at('accessProvisioning.batchSize'),
      requestsPer10s: at('sailPoint.requestsPer10s'),
    },
  );
}

export function cognigyAuditEnabled(config: StackConfig): boolean {
  return config.cognigyAudit.enabled ?? config.cognigy.apiUrl !== undefined;
}

/** Reads `igaAutopilot` plus any `-c igaAutopilot.<path>=value` overrides from the CDK context. */
export function stackConfigFromContext(context: Record<string, unknown>): StackConfig {
  const base = context[CONTEXT_KEY];
  const raw: Record<string, unknown> =
    typeof base === 'string'
      ? parseJsonContext(base)
      : structuredClone((base as Record<string, unknown>) ?? {});
  for (const [key, value] of Object.entries(context)) {
    if (!key.startsWith(`${CONTEXT_KEY}.`)) continue;
    setPath(raw, key.slice(CONTEXT_KEY.length + 1).split('.'), value);
  }
  return parseStackConfig(raw);
}

function parseJsonContext(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new StackConfigError([
      { setting: CONTEXT_KEY, message: 'given on the command line, it must be a JSON object' },
    ]);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
