/**
 * `npm run bundle:report`: builds each function's bundle exactly as the stack does (lib/bundling.ts:
 * esbuild, minified, source map, AWS SDK included), then prints its size and module init time: the
 * time to load the bundle in a fresh Node process, next to an empty handler built the same way.
 *
 * Each load runs in its own process with what Lambda sets (NODE_OPTIONS=--enable-source-maps,
 * AWS_LAMBDA_FUNCTION_NAME, the function's environment with placeholder resource names), so
 * handlers that build their dependencies at init do so here too. No network is used: clients are
 * created, not called. Options: --runs=N (default 15); --tracing: the bundles as deployed with
 * `lambda.tracing` on (Powertools Tracer and the X-Ray SDK included, POWERTOOLS_TRACE_ENABLED=true).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { entryOf, esbuildOptionsFor } from '../lib/bundling';
import {
  functionEnvironment,
  PLACEHOLDER_REFS,
  WORKFLOWS,
  type WorkflowName,
} from '../lib/function-environment';
import { parseStackConfig } from '../lib/stack-config';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 15);
const tracing = process.argv.includes('--tracing');
const outRoot = path.join(tmpdir(), 'iga-autopilot-bundle-report');

// A config with every workflow enabled; values only need to pass each function's settings check.
const config = parseStackConfig({
  sailPoint: { tenant: 'example' },
  cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
});

const LOADER = `
const { performance } = require('node:perf_hooks');
const start = performance.now();
const loaded = require(process.argv[1]);
const loadMs = performance.now() - start;
if (typeof loaded.handler !== 'function') throw new Error('the bundle exports no handler function');
process.stdout.write(JSON.stringify({ loadMs }));
`;

interface Measured {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  loads: number[];
}

async function bundle(name: string, entry: string): Promise<{ file: string; measured: Measured }> {
  const file = path.join(outRoot, name, 'index.js');
  await build(esbuildOptionsFor(entry, file, { tracing }));
  const code = readFileSync(file);
  return {
    file,
    measured: {
      name,
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      mapBytes: statSync(`${file}.map`).size,
      loads: [],
    },
  };
}

function loadOnce(file: string, env: Record<string, string>): number {
  const result = spawnSync(process.execPath, ['-e', LOADER, file], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'bundle-report',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_ACCESS_KEY_ID: 'bundle-report',
      AWS_SECRET_ACCESS_KEY: 'bundle-report',
      ...env,
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`loading ${file} failed:\n${result.stderr}`);
  return (JSON.parse(result.stdout) as { loadMs: number }).loadMs;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main() {
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(path.join(outRoot, 'empty-handler'), { recursive: true });
  const emptyEntry = path.join(outRoot, 'empty-handler', 'handler.ts');
  writeFileSync(emptyEntry, 'export const handler = async (): Promise<void> => {};\n');

  const targets: { file: string; measured: Measured; env: Record<string, string> }[] = [];
  for (const workflow of Object.keys(WORKFLOWS) as WorkflowName[]) {
    const { dir } = WORKFLOWS[workflow];
    targets.push({
      ...(await bundle(dir, entryOf(dir))),
      env: {
        ...functionEnvironment(workflow, config, PLACEHOLDER_REFS),
        ...(tracing ? { POWERTOOLS_TRACE_ENABLED: 'true' } : {}),
      },
    });
  }
  const empty = { ...(await bundle('empty handler', emptyEntry)), env: {} };

  // Interleaved, so a busy moment on the machine does not land on one bundle only.
  for (let run = 0; run < runs; run++) {
    for (const target of [empty, ...targets]) target.measured.loads.push(loadOnce(target.file, target.env));
  }

  const baseline = median(empty.measured.loads);
  const rows = [
    ['function', 'bundle', 'gzip', 'source map', `load (median of ${runs})`, 'vs empty handler'],
    ...targets.map(({ measured: m }) => {
      const load = median(m.loads);
      return [m.name, kb(m.bytes), kb(m.gzipBytes), kb(m.mapBytes), ms(load), `+${ms(load - baseline)}`];
    }),
    [empty.measured.name, kb(empty.measured.bytes), kb(empty.measured.gzipBytes), '', ms(baseline), ''],
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  console.log(
    `Node ${process.version} (${process.arch}), esbuild options from lib/bundling.ts (tracing ${tracing ? 'on' : 'off'}), bundles in ${outRoot}`,
  );
  if (!process.version.startsWith('v24.'))
    console.log('warning: Lambda runs Node 24; run this through npm (npm run bundle:report)');
  for (const row of rows)
    console.log(
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
        .join('  '),
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
