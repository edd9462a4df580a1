/**
 * Stripe's idempotency: the first response for a key is saved with a fingerprint of the request; the
 * same key with the same parameters replays it (`Idempotent-Replayed: true`), with different
 * parameters it is a 400 `idempotency_error`, and while the first is still running a 409.
 * Keys are scoped per account and API key, as Stripe scopes them.
 */
export interface SavedResponse {
  fingerprint: string;
  status: number;
  body: string;
  headers: Record<string, string>;
  requestId: string;
}

export type IdempotencyLookup =
  | { kind: 'new' }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; saved: SavedResponse };

export class IdempotencyStore {
  private readonly saved = new Map<string, SavedResponse>();
  private readonly inFlight = new Map<string, string>();

  constructor(private readonly maxEntries = 100_000) {}

  static scope(account: string, apiKey: string, key: string): string {
    return `${account}\u0000${apiKey}\u0000${key}`;
  }

  /** Looks the key up and, when new, marks it in flight. */
  begin(scopedKey: string, fingerprint: string): IdempotencyLookup {
    const saved = this.saved.get(scopedKey);
    if (saved) return saved.fingerprint === fingerprint ? { kind: 'replay', saved } : { kind: 'mismatch' };
    const running = this.inFlight.get(scopedKey);
    if (running !== undefined) return running === fingerprint ? { kind: 'in_flight' } : { kind: 'mismatch' };
    this.inFlight.set(scopedKey, fingerprint);
    return { kind: 'new' };
  }

  finish(scopedKey: string, response: SavedResponse | null): void {
    this.inFlight.delete(scopedKey);
    if (!response) return;
    this.saved.set(scopedKey, response);
    if (this.saved.size > this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.saved.keys().next().value;
      if (oldest !== undefined) this.saved.delete(oldest);
    }
  }

  get size(): number {
    return this.saved.size;
  }
}
