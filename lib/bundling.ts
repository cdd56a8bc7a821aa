/**
 * How every function is bundled: one definition, used by the stack (NodejsFunction runs esbuild
 * locally, no Docker) and by scripts/bundle-report.ts (which calls esbuild with the same options to
 * measure size and init time), so the report describes what is deployed.
 */
import * as path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** functions/<dir>/handler.ts, from the repo root. */
export const entryOf = (dir: string) => path.join(REPO_ROOT, 'functions', dir, 'handler.ts');

/** Node 24 on Lambda, as `NODEJS_24_X`. */
export const ESBUILD_TARGET = 'node24';

/**
 * Without tracing (`lambda.tracing`, off by default) the bundles get a stand-in for Powertools Tracer
 * (functions/shared/tracer-absent): the X-Ray SDK it pulls in is ~125 KB of every bundle and of its
 * cold start. Local runs and tests always have the real package.
 */
const TRACER_PACKAGE = '@aws-lambda-powertools/tracer';
export const TRACER_ABSENT = path.join(REPO_ROOT, 'functions', 'shared', 'tracer-absent');

const FUNCTION_BUNDLING = {
  minify: true,
  // Source maps for readable stack traces (NodejsFunction sets NODE_OPTIONS=--enable-source-maps);
  // without the sources embedded, the map stays small.
  sourceMap: true,
  sourcesContent: false,
  target: ESBUILD_TARGET,
  format: OutputFormat.CJS as OutputFormat,
  // Prefer each package's ES module build: esbuild tree-shakes it far better than CommonJS.
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK too: pinned to the lockfile's versions (not whatever the runtime ships) and,
  // minified into one file, faster to load than the runtime's many-file copy.
  externalModules: [],
  forceDockerBundling: false,
} satisfies BundlingOptions;

/** How every function is bundled, with or without the tracer. */
export function functionBundling(options: { tracing: boolean }): BundlingOptions {
  return options.tracing
    ? FUNCTION_BUNDLING
    : { ...FUNCTION_BUNDLING, esbuildArgs: { '--alias': `${TRACER_PACKAGE}=${TRACER_ABSENT}` } };
}

/** The esbuild options NodejsFunction derives from functionBundling (its `esbuild --bundle` command line). */
export function esbuildOptionsFor(
  entry: string,
  outfile: string,
  options: { tracing: boolean } = { tracing: false },
): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: FUNCTION_BUNDLING.target,
    format: FUNCTION_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    ...(options.tracing ? {} : { alias: { [TRACER_PACKAGE]: TRACER_ABSENT } }),
    logLevel: 'warning',
  };
}
