#!/usr/bin/env node
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
// The command is over: a handle something left open (a pool, a timer in a library) must not
// keep the process alive after its answer was printed. Unref'd, so a clean exit is not delayed.
setTimeout(() => process.exit(), 2000).unref();
