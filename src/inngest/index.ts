import type { InngestDeps } from './deps.js';
import { createApplyIntervention } from './functions/apply-intervention.js';
import { createCheckAlerts } from './functions/check-alerts.js';
import { createDecideRetentionDaily } from './functions/decide-retention-daily.js';
import { createProjectStripeEvent } from './functions/project-stripe-event.js';
import { createReconcileStripeEvents } from './functions/reconcile-stripe-events.js';
import { createRescoreOnRiskEvent } from './functions/rescore-on-risk-event.js';
import { createRetrainModel } from './functions/retrain-model.js';
import { createScoreAllDaily } from './functions/score-all-daily.js';
import { createScoreCustomer } from './functions/score-customer.js';
import { createScoreCustomerBatch } from './functions/score-customer-batch.js';
import { createTrackOutcomes } from './functions/track-outcomes.js';

export { inngest, createInngestClient, inngestClientOptions } from './client.js';
export type { InngestDeps } from './deps.js';

/** Every Inngest function of the app, bound to its dependencies; served at /api/inngest. */
export function createInngestFunctions(deps: InngestDeps) {
  return [
    createProjectStripeEvent(deps),
    createReconcileStripeEvents(deps),
    createRescoreOnRiskEvent(deps),
    createScoreCustomer(deps),
    createScoreAllDaily(deps),
    createScoreCustomerBatch(deps),
    createDecideRetentionDaily(deps),
    createApplyIntervention(deps),
    createTrackOutcomes(deps),
    createRetrainModel(deps),
    createCheckAlerts(deps),
  ];
}
