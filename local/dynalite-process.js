/**
 * dynalite in a process of its own (local/emulators.ts startDynamoProcess): the benchmarks use it so
 * the emulator's CPU does not block the instances' event loop — DynamoDB does not run on a Lambda's CPU.
 * Sends `{ port }` to the parent once listening; exits with it.
 */
'use strict';
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
