#!/usr/bin/env node
import { errorMessage } from './lib/errors.js';
import { runCli } from './cli/program.js';

// A crash outside any command's own error handling (an 'error' event nobody listened to, a
// rejected promise nobody awaited) is still one line, not a stack trace. Registered before any
// library (the wasm backend installs a handler that rethrows and prints its own minified source).
const crash = (err: unknown) => {
  process.stderr.write(`churn: ${errorMessage(err)}\n`);
  if (process.env.CHURN_DEBUG) console.error(err);
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

process.exitCode = await runCli(process.argv);
// The command is over: a handle something left open (a pool, a timer in a library) must not
// keep the process alive after its answer was printed. Unref'd, so a clean exit is not delayed.
setTimeout(() => process.exit(), 2000).unref();
