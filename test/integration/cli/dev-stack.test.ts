/**
 * `npm run dev` as a real process: it runs a demo, keeps serving with its state file, `iga --local`
 * works on it, and Ctrl-C (SIGINT) stops it and removes the state file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../cli/main';
import type { Io } from '../../../cli/io';

jest.setTimeout(120_000);

const root = join(__dirname, '..', '..', '..');

test('npm run dev keeps the stack up for iga --local until Ctrl-C', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iga-dev-'));
  const stateFile = join(dir, 'dev-stack.json');
  // `npm run dev -- cognigy` without npm in between, so the signal reaches the stack's own process.
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['bin/local.ts', '--keep', 'cognigy'], {
    cwd: root,
    env: { ...process.env, IGA_LOCAL_STATE: stateFile, LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // Ready when it says so (the demo ran, the state file is written).
    for (let i = 0; i < 1000 && !output.includes('keeps running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toMatch(/The local stack keeps running/);
    expect(existsSync(stateFile)).toBe(true);

    let out = '';
    const io: Io = { out: (text) => (out += text), err: (text) => (out += text) };
    const code = await run(['--local', 'findings', '--workflow', 'cognigy', '--json'], io, {
      env: { IGA_LOCAL_STATE: stateFile },
    });
    expect(code).toBe(0);
    expect((JSON.parse(out) as unknown[]).length).toBeGreaterThan(0); // the demo's Cognigy findings

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/Stopping the local stack/);
    expect(existsSync(stateFile)).toBe(false);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
