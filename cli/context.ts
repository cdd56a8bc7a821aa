/**
 * What every command gets: where to write, and the target (resolved on first use, so `--help` and
 * argument errors never need AWS credentials or a running local stack).
 */
import type { Command } from 'commander';
import type { Io } from './io';
import type { Target } from './target';

export interface CommandContext {
  readonly io: Io;
  target(): Promise<Target>;
  /** Exit code once the command has printed its result (e.g. 1 when a sweep ran and failed). */
  fail(): void;
}

/** `--json` on a command: print JSON for scripts instead of tables for people. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print JSON (for scripts) instead of a table');
}
