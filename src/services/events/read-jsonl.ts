import { createReadStream } from 'node:fs';
import { errorMessage } from '../../lib/errors.js';
import { parseStripeEventJson, type StripeEventEnvelope } from './parse.js';

/**
 * The longest line `churn ingest` reads as one event. Stripe's own event objects are a few KB
 * (webhook bodies are capped far lower, see WEBHOOK_MAX_BYTES); a longer line is a broken file,
 * and reading it whole would cost many times its size in memory (a 600 MB line cannot even
 * become one string). Raise it with `--max-line-bytes`.
 */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface BadLine {
  line: number;
  reason: string;
}

export interface ReadOptions {
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;
const BOM = '\uFEFF';

/**
 * The lines of a file, each at most `maxLineBytes`: a longer line is reported by its number and
 * size and skipped without being held in memory. A UTF-8 byte-order mark at the very start (as
 * some editors and Windows tools write) is not part of line 1. CRLF endings are accepted.
 */
export async function* readBoundedLines(path: string, options: ReadOptions = {}): AsyncGenerator<{ line: number; text?: string; tooLongBytes?: number }> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let line = 0;
  const finish = (): { line: number; text?: string; tooLongBytes?: number } => {
    line += 1;
    const result: { line: number; text?: string; tooLongBytes?: number } =
      size > max ? { line, tooLongBytes: size } : { line, text: (parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).toString('utf8') };
    parts = [];
    size = 0;
    if (result.text !== undefined) {
      if (line === 1 && result.text.startsWith(BOM)) result.text = result.text.slice(1);
      if (result.text.endsWith('\r')) result.text = result.text.slice(0, -1);
    }
    return result;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      // Past the limit only the count grows: the rest of the line is never kept.
      if (size + piece.length <= max) parts.push(piece);
      else parts = [];
      size += piece.length;
      if (nl === -1) break;
      yield finish();
      start = nl + 1;
    }
  }
  if (size > 0) yield finish();
}

/** Streams a JSONL file of Stripe events, one per line; blank lines are skipped. */
export async function* readEventLines(path: string, options: ReadOptions = {}): AsyncGenerator<{ line: number; event?: StripeEventEnvelope; error?: string }> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  for await (const { line, text, tooLongBytes } of readBoundedLines(path, options)) {
    if (tooLongBytes !== undefined) {
      yield { line, error: `line ${line} is ${tooLongBytes} bytes, over the ${max}-byte limit for one event (--max-line-bytes)` };
      continue;
    }
    if (text!.trim() === '') continue;
    try {
      yield { line, event: parseStripeEventJson(text!, `line ${line}`) };
    } catch (err) {
      yield { line, error: errorMessage(err) };
    }
  }
}

/** First pass of `churn ingest`: every malformed line, with its number, before anything is stored. */
export async function validateEventFile(path: string, options: ReadOptions & { maxErrors?: number } = {}): Promise<{ valid: number; bad: BadLine[]; badCount: number }> {
  const bad: BadLine[] = [];
  let valid = 0;
  let badCount = 0;
  for await (const r of readEventLines(path, options)) {
    if (r.error) {
      badCount += 1;
      if (bad.length < (options.maxErrors ?? 1000)) bad.push({ line: r.line, reason: r.error });
    } else valid += 1;
  }
  return { valid, bad, badCount };
}
