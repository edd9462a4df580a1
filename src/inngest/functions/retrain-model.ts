import { NonRetriableError } from 'inngest';
import { InsufficientDataError } from '../../ml/dataset.js';
import type { ClassificationMetrics } from '../../ml/metrics.js';
import { trainChurnModel } from '../../services/training/train-model.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { modelRetrainRequested } from '../events.js';

/** Every Sunday at 05:00 UTC. */
export const RETRAIN_SCHEDULE = '0 5 * * 0';
export const DEFAULT_MODEL_DIR = './models';

/** The held-out numbers worth carrying on an event (the full report lives in training_runs). */
function headlineMetrics(prefix: string, m: ClassificationMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ['rocAuc', 'prAuc', 'brier', 'logLoss', 'ece', 'baseRate', 'rows', 'positives'] as const) {
    const v = m[key];
    if (typeof v === 'number' && Number.isFinite(v)) out[prefix ? `${prefix}${key[0]!.toUpperCase()}${key.slice(1)}` : key] = v;
  }
  return out;
}

/**
 * Trains a candidate on the account's own history (weekly, or when asked), which trainChurnModel
 * promotes only when it beats its logistic baseline and the current champion on the same held-out
 * months, then announces `churn/model.trained`. One training at a time: it is the heaviest work
 * the service does.
 */
export function createRetrainModel(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'retrain-model',
      name: 'Retrain the churn model',
      triggers: [{ cron: RETRAIN_SCHEDULE }, modelRetrainRequested],
      concurrency: { limit: 1 },
    },
    async ({ event, step }) => {
      const requested = event.name === 'churn/model.retrain.requested' ? modelRetrainRequested.schema.safeParse(event.data) : null;
      if (requested && !requested.success) throw new NonRetriableError(`churn/model.retrain.requested: ${requested.error.message}`);
      const ask = requested?.data;
      const trained = await step.run('train-model', async () => {
        try {
          const result = await trainChurnModel(deps.database, {
            ...deps.training,
            modelDir: deps.modelDir ?? DEFAULT_MODEL_DIR,
            now: new Date(deps.now() * 1000),
            asOf: ask?.asOf,
            horizonDays: ask?.horizonDays,
            trigger: ask ? `event:${ask.requestedBy}` : 'schedule',
          });
          return {
            runId: result.runId,
            modelName: result.modelName,
            version: result.version,
            promoted: result.promoted,
            promotedVersion: result.promotedVersion,
            reason: result.decision.reason,
            metrics: { ...headlineMetrics('', result.metrics.overall), ...headlineMetrics('baseline', result.baselineMetrics.overall) },
          };
        } catch (err) {
          // Too little history will not change by retrying in a minute.
          if (err instanceof InsufficientDataError) throw new NonRetriableError(err.message, { cause: err });
          throw err;
        }
      });
      if (trained.promoted && deps.refreshChampion) await step.run('reload-champion', async () => void (await deps.refreshChampion!()));
      await step.sendEvent('announce-model-trained', {
        id: `model-trained-${trained.modelName}-${trained.version}`,
        name: 'churn/model.trained',
        data: {
          modelName: trained.modelName,
          version: trained.version,
          trainingRunId: trained.runId,
          metrics: trained.metrics,
          promoted: trained.promoted,
          promotedVersion: trained.promotedVersion,
        },
      });
      return { ...trained, requestedBy: ask?.requestedBy ?? 'schedule', requestedRunId: ask?.trainingRunId ?? null };
    },
  );
}
