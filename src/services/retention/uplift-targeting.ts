import type { EffectEstimator } from './decide-retention.js';

/**
 * Effect estimates for uplift policies. Until an effect model is learned from a policy's own
 * settled treated and holdout outcomes, no policy has one and uplift policies fall back to risk
 * targeting (decide.ts says so in every such decision).
 */
export const estimateUpliftEffects: EffectEstimator = async () => new Map();
