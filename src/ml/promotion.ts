import type { ClassificationMetrics, EvaluationMetrics } from './metrics.js';

/**
 * The one promotion decision. Every caller (the training use-case, the written reports, the CLI and
 * the API) reports what this function returned; none decides again.
 */

export interface PromotionDecision {
  /** something new serves after this run (the candidate or its logistic baseline) */
  promote: boolean;
  /** which model this run made champion; null when the current champion stays (or none serves) */
  promoted: 'candidate' | 'baseline' | null;
  reason: string;
}

/** AUC differences smaller than this are a tie, decided by log loss. */
export const AUC_TIE = 1e-3;

type Comparable = Pick<ClassificationMetrics, 'rocAuc' | 'logLoss'>;

function overallOf(m: EvaluationMetrics | Comparable): Comparable {
  return 'overall' in m ? m.overall : m;
}

function beats(a: Comparable, b: Comparable): { wins: boolean; why: string } {
  if (!Number.isFinite(a.rocAuc)) return { wins: false, why: 'candidate AUC is undefined' };
  if (!Number.isFinite(b.rocAuc)) return { wins: true, why: 'the other AUC is undefined' };
  const diff = a.rocAuc - b.rocAuc;
  if (diff >= AUC_TIE) return { wins: true, why: `AUC ${a.rocAuc.toFixed(4)} > ${b.rocAuc.toFixed(4)}` };
  if (diff <= -AUC_TIE) return { wins: false, why: `AUC ${a.rocAuc.toFixed(4)} < ${b.rocAuc.toFixed(4)}` };
  const wins = a.logLoss < b.logLoss;
  return { wins, why: `AUC tie (${a.rocAuc.toFixed(4)} vs ${b.rocAuc.toFixed(4)}), log loss ${a.logLoss.toFixed(4)} ${wins ? '<' : '>='} ${b.logLoss.toFixed(4)}` };
}

/**
 * Decides what serves after a training run, from metrics on the same held-out rows.
 *
 * The candidate becomes champion if it beats its logistic baseline AND the current champion:
 * higher ROC-AUC, or within AUC_TIE and lower log loss. When it does not beat the baseline, the
 * baseline (a calibrated logistic regression trained on the same rows) is still a model: it becomes
 * champion when there is none yet or when it beats the current one. Otherwise the champion stays.
 * Pass no champion metrics when there is no champion (or it cannot score this feature version).
 * `candidateIsBaseline`: model selection already chose the logistic regression, so the two are one model.
 */
export function decidePromotion(
  candidate: EvaluationMetrics | Comparable,
  baseline: EvaluationMetrics | Comparable,
  champion?: EvaluationMetrics | Comparable,
  options: { candidateIsBaseline?: boolean } = {},
): PromotionDecision {
  const c = overallOf(candidate);
  const vsBaseline = options.candidateIsBaseline ? { wins: true, why: 'the candidate is the logistic regression itself' } : beats(c, overallOf(baseline));
  if (vsBaseline.wins) {
    if (!champion) return { promote: true, promoted: 'candidate', reason: `beats the logistic baseline (${vsBaseline.why}); no current champion` };
    const vsChampion = beats(c, overallOf(champion));
    if (vsChampion.wins) return { promote: true, promoted: 'candidate', reason: `beats the logistic baseline (${vsBaseline.why}) and the current champion (${vsChampion.why})` };
    return { promote: false, promoted: null, reason: `does not beat the current champion: ${vsChampion.why}; the champion stays` };
  }
  const lost = `does not beat the logistic baseline: ${vsBaseline.why}`;
  if (!champion) return { promote: true, promoted: 'baseline', reason: `${lost}; no current champion, so the logistic baseline serves until a network beats it` };
  const vs = beats(overallOf(baseline), overallOf(champion));
  return vs.wins
    ? { promote: true, promoted: 'baseline', reason: `${lost}; the logistic baseline beats the current champion (${vs.why}) and serves` }
    : { promote: false, promoted: null, reason: `${lost}; the logistic baseline does not beat the current champion either (${vs.why}); the champion stays` };
}

/** One line for reports: what the run did, in the decision's own words. */
export function describeDecision(decision: PromotionDecision): string {
  const what = decision.promoted === 'candidate' ? 'candidate promoted' : decision.promoted === 'baseline' ? 'logistic baseline promoted' : 'not promoted (the current champion stays)';
  return `${what} — ${decision.reason}`;
}
