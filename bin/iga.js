#!/usr/bin/env node
// `npx iga …`: the operator CLI (cli/main.ts, docs/operations.md). It runs on the project's Node 24
// (the `node` devDependency) whichever node started it — npx puts node_modules/.bin first on the PATH,
// but `./bin/iga.js` from a shell would get the machine's node — and loads the TypeScript through tsx.
'use strict';
const path = require('node:path');

const root = path.join(__dirname, '..');
if (Number(process.versions.node.split('.')[0]) < 24) {
  const { spawnSync } = require('node:child_process');
  const node24 = path.join(root, 'node_modules', 'node', 'bin', 'node');
  const result = spawnSync(node24, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(
      `iga: cannot start Node 24 (${node24}): ${result.error.message}; run npm install first\n`,
    );
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
require('tsx/cjs');
require(path.join(root, 'cli', 'main.ts'))
  .main()
  .catch((error) => {
    process.stderr.write(`iga: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  });
