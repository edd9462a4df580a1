import { parseEnv } from '../../env.js';
import { alertDeliveryFromEnv, deliverAlertNotices, type AlertDelivery } from '../../services/alerts/deliver.js';
import { runAlertChecks } from '../../services/alerts/run-checks.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';

/** Every 15 minutes: a spike is noticed within a quarter of an hour, and the checks are a handful of aggregate queries. */
export const CHECK_ALERTS_SCHEDULE = '*/15 * * * *';

/**
 * Runs the anomaly checks and stores what they find (one open alert per kind and key, closed when
 * it clears), then posts the new and cleared ones to ALERT_WEBHOOK_URL when it is set. `delivery`
 * defaults to the environment's; pass null to never post.
 */
export function createCheckAlerts(deps: InngestDeps, delivery: AlertDelivery | null | undefined = undefined) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'check-alerts',
      name: 'Check for anomalies',
      triggers: [{ cron: CHECK_ALERTS_SCHEDULE }],
      concurrency: { limit: 1 },
    },
    async ({ step }) => {
      const checked = await step.run('run-checks', async () => {
        const { findings, changes } = await runAlertChecks(deps.database, { now: deps.now() });
        return { series: findings.length, firing: findings.filter((f) => f.firing).length, changes };
      });
      const target = delivery === undefined ? alertDeliveryFromEnv(parseEnv()) : delivery;
      if (!target) return { ...checked, notices: null };
      const notices = await step.run('deliver-notices', () => deliverAlertNotices(deps.database, target, deps.now()));
      return { ...checked, notices };
    },
  );
}
