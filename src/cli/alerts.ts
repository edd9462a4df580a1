import type { Command } from 'commander';
import { systemNow } from '../lib/clock.js';
import { alertDeliveryFromEnv, deliverAlertNotices } from '../services/alerts/deliver.js';
import { listAlerts, runAlertChecks, type AlertRow } from '../services/alerts/run-checks.js';
import { asOfOption, withDatabase } from './context.js';

function formatAlert(a: AlertRow): string {
  const since = new Date(a.openedAt * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const state = a.closedAt === null ? 'open' : `closed ${new Date(a.closedAt * 1000).toISOString().slice(0, 16).replace('T', ' ')}`;
  return `${a.severity.padEnd(8)} ${a.kind.padEnd(22)} ${a.key.padEnd(28)} since ${since} UTC, ${state}\n  ${a.message}\n`;
}

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description('list open anomaly alerts; with --check, run the checks first (payment-failure spikes, webhook-rejection spikes, processing lag, score drift, budget pace) and post new and cleared alerts to ALERT_WEBHOOK_URL')
    .option('--check', 'run the checks now, store what they find, then list')
    .option('--all', 'list closed alerts too')
    .option('--now <iso>', 'check as of this time (default: now)')
    .option('--json', 'print the alerts as JSON')
    .action(async (opts: { check?: boolean; all?: boolean; now?: string; json?: boolean }) => {
      const now = asOfOption(opts.now, 'now') ?? systemNow();
      await withDatabase(async (database, env) => {
        if (opts.check) {
          const { findings, changes } = await runAlertChecks(database, { now });
          const count = (c: string) => changes.filter((x) => x.change === c).length;
          const line = `checked ${findings.length} series: ${count('opened')} opened, ${count('updated')} still open, ${count('closed')} closed`;
          const delivery = alertDeliveryFromEnv(env);
          let sent = '';
          if (delivery) {
            const d = await deliverAlertNotices(database, delivery, now);
            sent = `; notices ${d.delivered} sent, ${d.failed} failed, ${d.refused} refused`;
          }
          (opts.json ? process.stderr : process.stdout).write(`${line}${sent}\n`);
        }
        const alerts = await listAlerts(database, { includeClosed: opts.all });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(alerts, null, 2)}\n`);
          return;
        }
        if (alerts.length === 0) process.stdout.write(opts.all ? 'no alerts\n' : 'no open alerts\n');
        for (const a of alerts) process.stdout.write(formatAlert(a));
      });
    });
}
