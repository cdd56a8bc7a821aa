// Compiles each TypeScript file (and the few ES-module-only dependencies) to CommonJS for jest with
// esbuild — the compiler the Lambda bundles are built with. esbuild keeps `import()` as a real
// dynamic import, which the jest global setup needs to load fauxqs (an ES module) natively.
// (Not @swc/jest or jest 30: their native binaries for other platforms are not all on the npm
// registry mirror here, so `npm ci` could not verify the lockfile; see README "Stack choices".)
const { transformSync, version } = require('esbuild');
const { createHash } = require('node:crypto');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: filename.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node22',
      platform: 'node',
      sourcemap: 'external',
      sourcefile: filename,
    });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return createHash('sha1').update(version).update(filename).update(source).digest('hex');
  },
};
