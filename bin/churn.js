#!/usr/bin/env node
// Runs the TypeScript CLI in this very process (tsx's loader registered in-process) so
// `npx churn` works without a build step. One process, not a wrapper around a child: Ctrl-C
// reaches the command itself (which can say "interrupted; run again to resume"), and the exit
// code is the command's own.
import { register } from 'tsx/esm/api';

register();
await import('../src/index.ts');
