/**
 * Seeded randomness for the synthetic world. Never Math.random(): the same seed must give the
 * same bytes. Each customer gets its own stream per simulated month (`customerMonthStream`), so
 * what one customer does (or what the product does to them) never shifts anyone else's draws,
 * and a treated and an untreated run of the same customer see the same random numbers
 * (common random numbers make per-customer treatment effects comparable).
 */

/** 32-bit finaliser from MurmurHash3: a cheap, well-mixed hash of one word. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hashes a list of small integers into one 32-bit word. */
export function hashWords(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) h = mix32((h ^ (w >>> 0)) + 0x6d2b79f5);
  return h;
}

/** sfc32: small, fast, passes PractRand at the sizes used here. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = hashWords(seed, stream, 1);
    this.b = hashWords(seed, stream, 2);
    this.c = hashWords(seed, stream, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller; one value per call keeps the stream position predictable). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Index drawn with the given (not necessarily normalised) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/** The stream a customer uses during one simulated month (month -1: its static attributes). */
export function customerMonthStream(seed: number, customerIndex: number, month: number): Random {
  return new Random(seed, hashWords(customerIndex, month + 1, 0x5eed));
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62Fixed(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out += BASE62[value % 62];
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Deterministic Stripe-looking ids (`cus_4fQ…`). The first twelve characters are bijective
 * scrambles of the owner (a customer's index, or a reserved number for catalog objects) and of
 * that owner's counter, so two ids can never collide; the rest is hash-derived filler.
 */
export function stripeId(prefix: string, seed: number, owner: number, counter: number): string {
  const salt = hashWords(seed, prefix.charCodeAt(0), prefix.length);
  const a = mix32((owner ^ salt) >>> 0);
  const b = mix32((counter ^ mix32(salt)) >>> 0);
  const c = hashWords(a, b, salt);
  return `${prefix}_${base62Fixed(a, 6)}${base62Fixed(b, 6)}${base62Fixed(c, 5)}`;
}
