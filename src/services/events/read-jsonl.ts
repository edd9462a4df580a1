import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { errorMessage } from '../../lib/errors.js';
import { parseStripeEventJson, type StripeEventEnvelope } from './parse.js';

export interface BadLine {
  line: number;
  reason: string;
}

/** Streams a JSONL file of Stripe events, one per line; blank lines are skipped. */
export async function* readEventLines(path: string): AsyncGenerator<{ line: number; event?: StripeEventEnvelope; error?: string }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line += 1;
    if (text.trim() === '') continue;
    try {
      yield { line, event: parseStripeEventJson(text) };
    } catch (err) {
      yield { line, error: errorMessage(err) };
    }
  }
}

/** First pass of `churn ingest`: every malformed line, with its number, before anything is stored. */
export async function validateEventFile(path: string, options: { maxErrors?: number } = {}): Promise<{ valid: number; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  let valid = 0;
  for await (const r of readEventLines(path)) {
    if (r.error) {
      if (bad.length < (options.maxErrors ?? 1000)) bad.push({ line: r.line, reason: r.error });
    } else valid += 1;
  }
  return { valid, bad };
}
