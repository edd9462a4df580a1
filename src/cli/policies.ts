import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isoDay } from '../lib/clock.js';
import { ChurnError, UsageError } from '../lib/errors.js';
import { formatMoney } from '../lib/money.js';
import type { PolicyDefinition } from '../services/policies/definition.js';
import { createPolicy, findPolicy, listPolicies, policyVersions, updatePolicy } from '../services/policies/store.js';
import { decideRetention } from '../services/retention/decide-retention.js';
import type { PolicyDecisionSummary } from '../services/retention/decide.js';
import { estimateUpliftEffects } from '../services/retention/uplift-targeting.js';
import { championAndAsOf } from './champion.js';
import { asOfOption, withDatabase } from './context.js';

/** Reads a JSON policy file, with the file and the JSON error named. */
async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ChurnError('VALIDATION_FAILED', `${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function describeTargeting(d: PolicyDefinition): string {
  const t = d.targeting;
  if (t.kind === 'threshold') return `risk >= ${(t.minProbability * 100).toFixed(0)}%`;
  if (t.kind === 'top_percent') return `riskiest ${t.percent}%`;
  return `uplift (fallback risk >= ${(t.fallbackMinProbability * 100).toFixed(0)}%)`;
}

export function describeAction(d: PolicyDefinition): string {
  const a = d.action;
  if (a.kind === 'coupon') {
    const off = a.percentOff !== undefined ? `${a.percentOff}% off` : `${formatMoney(a.amountOff!, a.currency!)} off`;
    return `coupon ${off} ${a.duration === 'repeating' ? `for ${a.durationInMonths} months` : a.duration}`;
  }
  if (a.kind === 'trial_extension') return `trial extended ${a.days} days`;
  if (a.kind === 'pause') return `payments paused ${a.days} days`;
  return `notify ${a.url}`;
}

/** "would target 312 customers (78 held out), expected cost $4,120.00 this month" */
export function describeSummary(s: PolicyDecisionSummary, verb = 'would target'): string {
  const stops = Object.entries(s.reasons)
    .filter(([code]) => code !== 'outside_segment')
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([code, n]) => `${n} ${code.replace(/_/g, ' ')}`)
    .join(', ');
  return (
    `${s.name} (${s.policyId} v${s.policyVersion}, ${s.mode}, ${s.targeting}): ${verb} ${s.treated + s.holdout} customer(s) ` +
    `(${s.treated} treated, ${s.holdout} held out), expected cost ${formatMoney(s.expectedCost, s.currency)} this month ` +
    `of ${formatMoney(s.budgetLeftBefore, s.currency)} left${stops ? `; not targeted: ${stops}` : ''}${s.upliftFallback ? '; uplift targeting falls back to risk until enough outcomes are settled' : ''}`
  );
}

export function registerPolicies(program: Command): void {
  const policies = program.command('policies').description('retention policies: who gets which offer, with budget and holdout (versioned; every change audited)');

  policies
    .command('list')
    .description('the current version of every policy, highest priority first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (database) => {
        const list = await listPolicies(database);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return void process.stdout.write('no policies yet: churn policies create --file policy.json\n');
        for (const p of list) {
          const d = p.definition;
          process.stdout.write(
            `${p.id} v${p.version}  ${d.name}  [${d.enabled ? d.mode : 'disabled'}, priority ${d.priority}]  ${describeTargeting(d)} -> ${describeAction(d)}; ` +
              `holdout ${d.holdoutPercent}%, budget ${formatMoney(d.budget.monthlyAmount, d.budget.currency)}/month, cooldown ${d.eligibility.cooldownDays} days\n`,
          );
        }
      });
    });

  policies
    .command('show <policy>')
    .description('every version of one policy (by id or name), newest first')
    .action(async (ref: string) => {
      await withDatabase(async (database) => {
        const p = await findPolicy(database, ref);
        process.stdout.write(`${JSON.stringify(await policyVersions(database.db, p.id), null, 2)}\n`);
      });
    });

  policies
    .command('create')
    .description('create a policy from a JSON file (see README: Retention policies)')
    .requiredOption('--file <policy.json>', 'policy definition')
    .option('--actor <who>', 'who is making the change (audit log)', 'cli')
    .action(async (opts: { file: string; actor: string }) => {
      const input = await readJsonFile(opts.file);
      await withDatabase(async (database) => {
        const p = await createPolicy(database, input, opts.actor);
        process.stdout.write(`created ${p.id} v${p.version} "${p.definition.name}" (${p.definition.mode})\n`);
      });
    });

  policies
    .command('update <policy>')
    .description('make a new version of a policy from a JSON file of the fields to change (objects merge one level deep)')
    .requiredOption('--file <change.json>', 'fields to change, e.g. {"targeting": {"minProbability": 0.3}}')
    .option('--actor <who>', 'who is making the change (audit log)', 'cli')
    .action(async (ref: string, opts: { file: string; actor: string }) => {
      const change = await readJsonFile(opts.file);
      if (!change || typeof change !== 'object' || Array.isArray(change)) throw new ChurnError('VALIDATION_FAILED', `${opts.file} must hold a JSON object of fields to change`);
      await withDatabase(async (database) => {
        const current = await findPolicy(database, ref);
        const p = await updatePolicy(database, current.id, change as Record<string, unknown>, opts.actor);
        process.stdout.write(`updated ${p.id}: now v${p.version} (v${current.version} stays readable: churn policies show ${p.id})\n`);
      });
    });

  policies
    .command('simulate [policy]')
    .description('what the policies (or one) would do now: who would be targeted, held out, skipped and why, at what cost; nothing is stored or sent')
    .option('--as-of <iso>', 'decide as of this time (default: newest stored event)')
    .option('--json', 'print JSON')
    .action(async (ref: string | undefined, opts: { asOf?: string; json?: boolean }) => {
      const asOfFlag = asOfOption(opts.asOf);
      await withDatabase(async (database, env) => {
        const only = ref ? [(await findPolicy(database, ref)).id] : undefined;
        const { model, asOf } = await championAndAsOf(database, env, asOfFlag);
        const result = await decideRetention(database, { asOf, model, policyIds: only, simulate: true, actor: 'cli', estimateEffects: estimateUpliftEffects });
        if (opts.json) return void process.stdout.write(`${JSON.stringify({ asOf, modelVersion: result.modelVersion, candidates: result.candidates, policies: result.decided.policies }, null, 2)}\n`);
        process.stdout.write(`as of ${isoDay(asOf)}, ${result.candidates} scored customer(s), model ${result.modelVersion}\n`);
        if (result.decided.policies.length === 0) process.stdout.write('no enabled policy\n');
        for (const s of result.decided.policies) process.stdout.write(`${describeSummary(s)}\n`);
      });
    });
}
