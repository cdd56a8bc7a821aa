/**
 * Where the CLI writes, and how: a table for people, JSON for scripts (`--json`), one error line on
 * stderr with a non-zero exit code. Commands write only through `Io`, so tests run them in-process.
 */
import Table from 'cli-table3';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** A failure the operator can act on: printed as one line, exit code 1 (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type Cell = string | number | boolean | null | undefined;

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Columns aligned, no borders or colours (pipes and logs stay readable); long cells cut at `maxWidth`. */
export function printTable(io: Io, head: readonly string[], rows: readonly Cell[][], maxWidth = 70): void {
  if (rows.length === 0) return;
  const table = new Table({
    head: [...head],
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows)
    table.push(row.map((cell) => cut(cell === undefined || cell === null ? '—' : String(cell), maxWidth)));
  io.out(
    `${table
      .toString()
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')}\n`,
  );
}

export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

export function line(io: Io, text = ''): void {
  io.out(`${text}\n`);
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Epoch ms or ISO → `YYYY-MM-DD HH:MM:SS` UTC, for tables (JSON keeps ISO). */
export function when(value: string | number | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '' || value === 0) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().slice(0, 19).replace('T', ' ');
}
