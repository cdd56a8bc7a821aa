/**
 * `iga`, the operator's command line (docs/operations.md). `run(argv, io)` is the whole CLI, so tests
 * run it in-process; bin/iga.js is the launcher `npx iga` starts.
 *
 *   iga --stack <name> …     a deployed stack (its CloudFormation outputs, your AWS credentials)
 *   iga --local …            the local stack of `npm run dev`
 */
import { Command, CommanderError } from 'commander';
import { registerAbsences } from './commands/absences';
import { registerDlq } from './commands/dlq';
import { registerExemptions } from './commands/exemptions';
import { registerFindings } from './commands/findings';
import { registerReport } from './commands/report';
import { registerRuns } from './commands/runs';
import { registerStatus } from './commands/status';
import { registerTriggers } from './commands/triggers';
import type { CommandContext } from './context';
import { CliError, processIo, type Io } from './io';
import { messageOf, resolveTarget, type Target, type TargetOptions } from './target';

export interface RunOptions {
  /** Where IGA_STACK / IGA_LOCAL_STATE / AWS_REGION are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs one `iga` command line (without the program name) and returns its exit code. */
export async function run(
  argv: readonly string[],
  io: Io = processIo,
  options: RunOptions = {},
): Promise<number> {
  const program = new Command('iga');
  program
    .description('Operate IGA Autopilot: findings, exemptions, dead letters, on-demand runs, the report')
    .option('--stack <name>', 'a deployed stack (reads its outputs with your AWS credentials); or IGA_STACK')
    .option('--region <region>', 'AWS region of the stack (default: AWS_REGION or your profile)')
    .option('--local', 'the local stack of `npm run dev` (its state file; IGA_LOCAL_STATE names another)')
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .exitOverride()
    .showHelpAfterError('(iga <command> --help shows the options)');

  let target: Promise<Target> | undefined;
  let exitCode = 0;
  const ctx: CommandContext = {
    io,
    target: () => (target ??= resolveTarget(program.opts<TargetOptions>(), options.env ?? process.env)),
    fail: () => {
      exitCode = 1;
    },
  };
  registerStatus(program, ctx);
  registerFindings(program, ctx);
  registerExemptions(program, ctx);
  registerDlq(program, ctx);
  registerAbsences(program, ctx);
  registerRuns(program, ctx);
  registerTriggers(program, ctx);
  registerReport(program, ctx);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Help and version end parsing with exit code 0; usage errors were already printed by commander.
    if (error instanceof CommanderError) return error.exitCode;
    io.err(`iga: ${error instanceof CliError ? error.message : messageOf(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

/** The launcher's entry point. */
export async function main(): Promise<void> {
  // EMF metrics of functions run in-process (iga --local sweep) would land in the command's output.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // `iga findings | head`: the reader went away; that is not a failure of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await run(process.argv.slice(2));
}
