import type { InngestDeps } from './deps.js';
import { createProjectStripeEvent } from './functions/project-stripe-event.js';
import { createReconcileStripeEvents } from './functions/reconcile-stripe-events.js';

export { inngest, createInngestClient, inngestClientOptions } from './client.js';
export type { InngestDeps } from './deps.js';

/** Every Inngest function of the app, bound to its dependencies; served at /api/inngest. */
export function createInngestFunctions(deps: InngestDeps) {
  return [createProjectStripeEvent(deps), createReconcileStripeEvents(deps)];
}
