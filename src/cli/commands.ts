import type { Command } from 'commander';
import { registerMigrate } from './migrate.js';
import { registerIngest } from './ingest.js';
import { registerTrain } from './train.js';
import { registerScore } from './score.js';
import { registerServe } from './serve.js';
import { registerDemo } from './demo.js';
import { registerStripeSandbox } from './stripe-sandbox.js';
import { registerDoctor } from './doctor.js';
import { registerSimulate } from './simulate.js';
import { registerBackfill } from './backfill.js';
import { registerReconcile } from './reconcile.js';
import { registerRelay } from './relay.js';
import { registerPolicies } from './policies.js';
import { registerAct } from './act.js';
import { registerOutcomes } from './outcomes.js';
import { registerReport } from './report.js';
import { registerAlerts } from './alerts.js';
import { registerKeys } from './keys.js';

/** Each command lives in its own file under src/cli/ and registers itself here. */
export function registerCommands(program: Command): void {
  registerMigrate(program);
  registerIngest(program);
  registerTrain(program);
  registerScore(program);
  registerServe(program);
  registerDemo(program);
  registerStripeSandbox(program);
  registerDoctor(program);
  registerSimulate(program);
  registerBackfill(program);
  registerReconcile(program);
  registerRelay(program);
  registerPolicies(program);
  registerAct(program);
  registerOutcomes(program);
  registerReport(program);
  registerAlerts(program);
  registerKeys(program);
}
