/** Stripe timestamps are whole seconds since the epoch; the product keeps them that way. */
export type UnixSeconds = number;

export const DAY = 86_400;

export function toUnix(date: Date): UnixSeconds {
  return Math.floor(date.getTime() / 1000);
}

export function fromUnix(seconds: UnixSeconds): Date {
  return new Date(seconds * 1000);
}

/** Parses an ISO date or date-time (`2026-01-31`, `2026-01-31T00:00:00Z`) to unix seconds. */
export function parseIsoToUnix(text: string): UnixSeconds {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not an ISO date: ${text}`);
  return Math.floor(ms / 1000);
}

export function isoDay(seconds: UnixSeconds): string {
  return fromUnix(seconds).toISOString().slice(0, 10);
}

/** The only place that reads the wall clock; logic takes `now` as an argument. */
export function systemNow(): UnixSeconds {
  return Math.floor(Date.now() / 1000);
}
