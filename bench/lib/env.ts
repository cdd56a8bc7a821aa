/** Reading the benchmarks' knobs (environment) and printing their report. */

export function intEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
}

/** A probability or share: 0 ≤ value < 1. */
export function ratioEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!(value >= 0 && value < 1)) throw new Error(`${name} must be a number from 0 to below 1`);
  return value;
}

export const print = (line = '') => process.stdout.write(`${line}\n`);
