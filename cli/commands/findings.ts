/**
 * `iga findings`: open findings and those closed recently, from the findings table — stale personal
 * access tokens (with the date revocation may start) and Cognigy credential findings.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { API_KEY_SOURCE, PRIVILEGE_SOURCE } from '../../functions/cognigy-audit/findings';
import {
  FindingsStore,
  isOpen,
  ownerLabel,
  type Finding,
  type FindingStatus,
} from '../../functions/shared/findings';
import { FINDINGS_SOURCE } from '../../functions/stale-token-sweep/sweep';
import { withJson, type CommandContext } from '../context';
import { line, printJson, printTable, when } from '../io';

const WORKFLOWS = {
  'stale-token': [FINDINGS_SOURCE],
  cognigy: [PRIVILEGE_SOURCE, API_KEY_SOURCE],
} as const;
type Workflow = keyof typeof WORKFLOWS;

const STATES = ['open', 'closed', 'all', 'WARNED', 'FLAGGED', 'EXEMPT', 'RESOLVED', 'REVOKED'] as const;
type StateFilter = (typeof STATES)[number];

interface FindingsOptions {
  workflow?: Workflow;
  state?: StateFilter;
  owner?: string;
  days: number;
  json?: boolean;
}

export function registerFindings(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('findings')
      .description('open findings and those closed in the last --days (stale tokens, Cognigy credentials)')
      .option(
        '--workflow <workflow>',
        'stale-token or cognigy (default: both)',
        choice(Object.keys(WORKFLOWS)),
      )
      .option(
        '--state <state>',
        'open, closed, all, or a status (WARNED, FLAGGED, EXEMPT, RESOLVED, REVOKED); default: open and recently closed',
        choice(STATES),
      )
      .option('--owner <text>', "owner's identity id, name, display name or e-mail (part of it, any case)")
      .option('--days <n>', 'how far back closed findings count as recent', wholeNumber, 30),
  ).action(async (options: FindingsOptions) => {
    const target = await ctx.target();
    const store = new FindingsStore({ doc: target.doc, tableName: target.table('findings') });
    const workflows = options.workflow ? [options.workflow] : (Object.keys(WORKFLOWS) as Workflow[]);
    const since = Date.now() - options.days * 86_400_000;
    const owner = options.owner?.toLowerCase();
    const rows: { workflow: Workflow; finding: Finding }[] = [];
    for (const workflow of workflows) {
      for (const source of WORKFLOWS[workflow]) {
        for (const finding of await store.list(source)) {
          if (!matchesState(finding, options.state, since)) continue;
          if (
            owner &&
            !`${finding.owner?.id ?? ''} ${finding.owner?.name ?? ''} ${finding.owner?.displayName ?? ''} ${finding.owner?.email ?? ''}`
              .toLowerCase()
              .includes(owner)
          )
            continue;
          rows.push({ workflow, finding });
        }
      }
    }
    rows.sort((a, b) => b.finding.statusSince.localeCompare(a.finding.statusSince));
    if (options.json) {
      printJson(
        ctx.io,
        rows.map(({ workflow, finding }) => ({ workflow, subject: subjectOf(finding), ...finding })),
      );
      return;
    }
    if (rows.length === 0) {
      line(ctx.io, `no findings match in the ${target.label}`);
      return;
    }
    printTable(
      ctx.io,
      ['STATUS', 'WORKFLOW', 'SUBJECT', 'OWNER', 'REASON', 'SINCE', 'LAST USED', 'ID'],
      rows.map(({ workflow, finding: f }) => [
        f.status,
        workflow,
        subjectOf(f),
        f.owner ? ownerLabel(f.owner) : undefined,
        f.reason,
        when(f.statusSince)?.slice(0, 10),
        lastUsedOf(f),
        f.subjectId,
      ]),
      48,
    );
    line(ctx.io, `${rows.length} finding(s) in the ${target.label}`);
  });
}

function matchesState(f: Finding, state: StateFilter | undefined, since: number): boolean {
  switch (state) {
    case 'all':
      return true;
    case 'open':
      return isOpen(f.status);
    case 'closed':
      return !isOpen(f.status);
    case undefined:
      return isOpen(f.status) || Date.parse(f.closedAt ?? f.statusSince) >= since;
    default:
      return f.status === (state as FindingStatus);
  }
}

function subjectOf(f: Finding): string {
  const facts = f.facts as Record<string, unknown>;
  return String(facts.tokenName ?? facts.name ?? f.subjectId);
}

function lastUsedOf(f: Finding): string | undefined {
  if (!('lastUsed' in f.facts)) return undefined;
  return (f.facts.lastUsed as string | null)?.slice(0, 10) ?? 'never';
}

function choice(allowed: readonly string[]) {
  return (value: string) => {
    if (!allowed.includes(value)) throw new InvalidArgumentError(`choose one of ${allowed.join(', ')}`);
    return value;
  };
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number is expected');
  return Number(value);
}
