/**
 * What one check's evaluation gives before runChecks adds its name and weight.
 */

export interface Outcome {
  pass: boolean;
  /** 0..1. */
  score: number;
  reason: string;
}

export const passed = (reason: string): Outcome => ({ pass: true, score: 1, reason });
export const failed = (reason: string): Outcome => ({ pass: false, score: 0, reason });
export const verdict = (pass: boolean, reason: string): Outcome => ({ pass, score: pass ? 1 : 0, reason });

/**
 * Scores from floating-point arithmetic (a weighted mean, a ratio) may land a hair under a
 * threshold they equal on paper (0.1 + 0.7 < 0.8): compare with this much slack.
 */
const EPSILON = 1e-9;
export const reaches = (score: number, threshold: number): boolean => score + EPSILON >= threshold;

