import { StripeApiError, internalError, invalidParam, rateLimited } from './errors.js';

export type FaultStatus = 429 | 500 | 502 | 503;

/** A fault to inject into the next `count` matching requests, before they are handled. */
export interface FaultSpec {
  /** Answer with this status (Stripe's body for it); omitted = only delay, then handle normally. */
  status?: FaultStatus;
  /** How many matching requests it hits (default 1). */
  count?: number;
  /** Only requests whose path starts with this (e.g. `/v1/subscriptions`). */
  pathPrefix?: string;
  /** Only this HTTP method (e.g. `POST`). */
  method?: string;
  /** Wait this long before answering (slow network, timeouts). */
  delayMs?: number;
}

export interface ActiveFault {
  id: number;
  status: FaultStatus | null;
  remaining: number;
  pathPrefix: string | null;
  method: string | null;
  delayMs: number;
  hits: number;
}

export interface FaultHit {
  fault: ActiveFault;
  error: StripeApiError | null;
  delayMs: number;
}

const STATUSES: readonly FaultStatus[] = [429, 500, 502, 503];

/** Faults on demand, shared by the in-process handle and `POST /_sandbox/faults`. */
export class FaultInjector {
  private readonly active: ActiveFault[] = [];
  private nextId = 1;
  /** Every request a fault answered or delayed, oldest first. */
  readonly history: { method: string; path: string; status: number | null }[] = [];

  inject(spec: FaultSpec): ActiveFault {
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw invalidParam('count', 'count must be a positive whole number');
    if (spec.status !== undefined && !STATUSES.includes(spec.status)) {
      throw invalidParam('status', `status must be one of ${STATUSES.join(', ')}`);
    }
    const delayMs = spec.delayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 60_000) throw invalidParam('delayMs', 'delayMs must be 0..60000');
    if (spec.status === undefined && delayMs === 0) throw invalidParam('status', 'a fault needs a status or a delayMs');
    const fault: ActiveFault = {
      id: this.nextId++,
      status: spec.status ?? null,
      remaining: count,
      pathPrefix: spec.pathPrefix ?? null,
      method: spec.method ? spec.method.toUpperCase() : null,
      delayMs,
      hits: 0,
    };
    this.active.push(fault);
    return { ...fault };
  }

  list(): ActiveFault[] {
    return this.active.map((f) => ({ ...f }));
  }

  clear(): void {
    this.active.length = 0;
  }

  /** The fault for this request, if any, used up by one. */
  take(method: string, path: string): FaultHit | undefined {
    const index = this.active.findIndex(
      (f) => (f.method === null || f.method === method) && (f.pathPrefix === null || path.startsWith(f.pathPrefix)),
    );
    if (index < 0) return undefined;
    const fault = this.active[index]!;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining === 0) this.active.splice(index, 1);
    this.history.push({ method, path, status: fault.status });
    let error: StripeApiError | null = null;
    if (fault.status === 429) error = rateLimited();
    else if (fault.status !== null) {
      const base = internalError();
      error = new StripeApiError(fault.status, base.body, base.headers);
    }
    return { fault: { ...fault }, error, delayMs: fault.delayMs };
  }
}
