import type { CatalogueItemRow } from '../db/queries/features.sql.js';
import { intervalMonths } from '../services/projections/normalize.js';
import type { FeatureSet, FeatureSpec, Matrix } from './types.js';

/**
 * The account's own catalogue as model inputs. Which products and prices a customer holds are
 * categorical: the model learns a vocabulary of the most common ones on the training months
 * (stored in its metadata), gives each a slot column, and counts everything else in an "other"
 * bucket, so a catalogue the simulator never had works the same way. Countries get the same
 * treatment. The slot columns are fixed in number, so the feature matrix keeps one width.
 *
 * The same vocabulary holds the account's list prices (the typical monthly price per unit of each
 * product on the training months), which `price_vs_list` compares what a customer pays with.
 */

export const PRODUCT_SLOTS = 12;
export const PRICE_SLOTS = 8;
export const COUNTRY_SLOTS = 5;
/** a product, price or country enters the vocabulary only if this many training rows hold it */
export const MIN_VOCABULARY_ROWS = 20;

/** One licensed item a customer pays for: monthly amount in minor units of `currency`. */
export interface CatalogueLine {
  product: string;
  currency: string;
  units: number;
  monthly: number;
}

/** What a customer holds at asOf, before any vocabulary is applied. */
export interface CustomerCatalogue {
  account: string;
  products: string[];
  prices: string[];
  country: string | null;
  lines: CatalogueLine[];
  /** largest percentage discount in force */
  discountPercent: number;
}

/** A customer's catalogue from their live items (the rows of catalogueItemsQuery). */
export function customerCatalogue(account: string, items: readonly CatalogueItemRow[], country: string | null, discountPercent: number): CustomerCatalogue {
  const lines: CatalogueLine[] = [];
  for (const it of items) {
    if (!it.product_id || it.usage_type === 'metered' || it.unit_amount === null || it.unit_amount === undefined) continue;
    const units = Math.max(0, Number(it.quantity ?? 1));
    if (units === 0) continue;
    lines.push({ product: it.product_id, currency: it.currency ?? '', units, monthly: (Number(it.unit_amount) * units) / intervalMonths(it.interval, it.interval_count) });
  }
  return {
    account,
    products: [...new Set(items.map((it) => it.product_id).filter((p): p is string => !!p))],
    prices: [...new Set(items.map((it) => it.price_id).filter((p): p is string => !!p))],
    country: country ? country.toUpperCase() : null,
    lines,
    discountPercent,
  };
}

/** The account's typical monthly price per unit of a product in a currency, learned on the training months. */
export interface ListPrice {
  account: string;
  product: string;
  currency: string;
  monthlyPerUnit: number;
}

export interface VocabularyEntry {
  id: string;
  /** readable name for driver sentences (price nickname or product name; the id when none) */
  label: string;
  /** training rows that held it */
  rows: number;
}

export interface CatalogueVocabulary {
  products: VocabularyEntry[];
  prices: VocabularyEntry[];
  countries: VocabularyEntry[];
  listPrices: ListPrice[];
}

export const EMPTY_VOCABULARY: CatalogueVocabulary = { products: [], prices: [], countries: [], listPrices: [] };
/** list prices kept in a vocabulary (most held first): bounds metadata.json on a huge catalogue */
export const MAX_LIST_PRICES = 500;

export const productSlot = (k: number) => `product_${k + 1}`;
export const priceSlot = (k: number) => `price_${k + 1}`;
export const countrySlot = (k: number) => `country_${k + 1}`;

/** Slot feature specs; their sentences name the vocabulary entry once a model's vocabulary is bound. */
export function slotSpecs(): FeatureSpec[] {
  const specs: FeatureSpec[] = [];
  for (let k = 0; k < PRODUCT_SLOTS; k++) {
    specs.push({
      name: productSlot(k),
      kind: 'category_onehot',
      description: `holds the account's product number ${k + 1} by popularity on the training months (the model's vocabulary)`,
      sentence: (v) => (v ? `holds catalogue product #${k + 1}` : `does not hold catalogue product #${k + 1}`),
    });
  }
  specs.push({ name: 'other_products', kind: 'count', description: 'products held outside the vocabulary (the "other" bucket)', sentence: (v) => `${Math.round(v)} less common product${Math.round(v) === 1 ? '' : 's'}` });
  for (let k = 0; k < PRICE_SLOTS; k++) {
    specs.push({
      name: priceSlot(k),
      kind: 'category_onehot',
      description: `on the account's price number ${k + 1} by popularity on the training months (the model's vocabulary)`,
      sentence: (v) => (v ? `on catalogue price #${k + 1}` : `not on catalogue price #${k + 1}`),
    });
  }
  specs.push({ name: 'other_prices', kind: 'count', description: 'prices held outside the vocabulary (legacy, custom or rare prices)', sentence: (v) => `${Math.round(v)} less common price${Math.round(v) === 1 ? '' : 's'}` });
  for (let k = 0; k < COUNTRY_SLOTS; k++) {
    specs.push({
      name: countrySlot(k),
      kind: 'category_onehot',
      description: `customer country is the account's country number ${k + 1} by customers on the training months`,
      sentence: (v) => (v ? `customer in country #${k + 1}` : `customer not in country #${k + 1}`),
      driver: { fact: 'country' },
    });
  }
  specs.push({
    name: 'price_vs_list',
    kind: 'ratio',
    description: "log ratio of what the customer pays per unit (after the largest percentage discount) to the account's list price of the same products (typical on the training months)",
    sentence: (v) => priceVsListSentence(v),
  });
  specs.push({ name: 'country_other', kind: 'bool', description: 'customer country known but outside the vocabulary', sentence: (v) => (v ? 'customer in a less common country' : 'customer in a common country'), driver: { fact: 'country' } });
  return specs;
}

function priceVsListSentence(v: number): string {
  const pct = Math.round(Math.expm1(v) * 100);
  if (pct === 0) return 'pays the list price';
  return pct > 0 ? `pays ${pct}% above the list price` : `pays ${-pct}% below the list price`;
}

/**
 * ln(what the customer pays / the list price of the same units), after the largest percentage
 * discount; 0 when no list price is known. Clipped to [-3, 1] (-95 %..+172 %), so a free month or an
 * odd custom price cannot produce an absurd ratio.
 */
export function priceVsList(c: CustomerCatalogue, list: (account: string, product: string, currency: string) => number | undefined): number {
  let paid = 0;
  let listed = 0;
  for (const line of c.lines) {
    const typical = list(c.account, line.product, line.currency);
    if (typical === undefined || typical <= 0) continue;
    paid += line.monthly;
    listed += typical * line.units;
  }
  if (listed <= 0) return 0;
  const ratio = (paid * (1 - c.discountPercent / 100)) / listed;
  return ratio <= 0 ? -3 : Math.min(1, Math.max(-3, Math.log(ratio)));
}

/** The slot specs with sentences that name what each slot holds in this vocabulary. */
export function labelSlotSpecs(specs: readonly FeatureSpec[], vocabulary: CatalogueVocabulary | undefined): FeatureSpec[] {
  if (!vocabulary) return [...specs];
  const labels = new Map<string, { label: string; kind: 'product' | 'price' | 'country' }>();
  vocabulary.products.forEach((e, k) => labels.set(productSlot(k), { label: e.label, kind: 'product' }));
  vocabulary.prices.forEach((e, k) => labels.set(priceSlot(k), { label: e.label, kind: 'price' }));
  vocabulary.countries.forEach((e, k) => labels.set(countrySlot(k), { label: e.label, kind: 'country' }));
  return specs.map((spec) => {
    const l = labels.get(spec.name);
    if (!l) return spec;
    const sentence =
      l.kind === 'product'
        ? (v: number) => (v ? `holds ${l.label}` : `does not hold ${l.label}`)
        : l.kind === 'price'
          ? (v: number) => (v ? `on the ${l.label} price` : `not on the ${l.label} price`)
          : (v: number) => (v ? `customer in ${l.label}` : `customer not in ${l.label}`);
    return { ...spec, description: `${spec.description}: ${l.label}`, sentence };
  });
}

/** A feature set whose slot sentences name this vocabulary's products, prices and countries. */
export function featureSetWithVocabulary(featureSet: FeatureSet, vocabulary: CatalogueVocabulary | undefined): FeatureSet {
  return vocabulary ? { version: featureSet.version, features: labelSlotSpecs(featureSet.features, vocabulary) } : featureSet;
}

/** Every live item grouped by customer: distinct products and prices held. */
export function cataloguesByCustomer(items: readonly CatalogueItemRow[], keyOf: (account: string, customerId: string) => string): Map<string, { products: Set<string>; prices: Set<string> }> {
  const out = new Map<string, { products: Set<string>; prices: Set<string> }>();
  for (const it of items) {
    const k = keyOf(it.account, it.customer_id);
    let c = out.get(k);
    if (!c) out.set(k, (c = { products: new Set(), prices: new Set() }));
    if (it.product_id) c.products.add(it.product_id);
    if (it.price_id) c.prices.add(it.price_id);
  }
  return out;
}

function topEntries(counts: Map<string, number>, slots: number, label: (id: string) => string): VocabularyEntry[] {
  return [...counts.entries()]
    .filter(([, rows]) => rows >= MIN_VOCABULARY_ROWS)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, slots)
    .map(([id, rows]) => ({ id, label: label(id), rows }));
}

/**
 * The vocabulary of the training rows: the most common products, prices and countries (ties by id,
 * so the same rows always give the same vocabulary). Labels: the names passed in (product names,
 * price nicknames), else the id.
 */
export function learnVocabulary(catalogues: Iterable<CustomerCatalogue>, names: { products?: Map<string, string>; prices?: Map<string, string> } = {}): CatalogueVocabulary {
  const products = new Map<string, number>();
  const prices = new Map<string, number>();
  const countries = new Map<string, number>();
  const unitPrices = new Map<string, number[]>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const c of catalogues) {
    for (const p of c.products) bump(products, p);
    for (const p of c.prices) bump(prices, p);
    if (c.country) bump(countries, c.country);
    for (const line of c.lines) {
      const k = `${c.account}\u0001${line.product}\u0001${line.currency}`;
      const list = unitPrices.get(k);
      if (list) list.push(line.monthly / line.units);
      else unitPrices.set(k, [line.monthly / line.units]);
    }
  }
  const listPrices = [...unitPrices.entries()]
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_LIST_PRICES)
    .map(([k, values]) => {
      const [account, product, currency] = k.split('\u0001') as [string, string, string];
      values.sort((a, b) => a - b);
      // the median: the price most customers of the product pay, robust to a few legacy or custom prices
      return { account, product, currency, monthlyPerUnit: values[values.length >> 1]! };
    });
  return {
    products: topEntries(products, PRODUCT_SLOTS, (id) => names.products?.get(id) ?? id),
    prices: topEntries(prices, PRICE_SLOTS, (id) => names.prices?.get(id) ?? id),
    countries: topEntries(countries, COUNTRY_SLOTS, (id) => id),
    listPrices,
  };
}

/** Writes the slot and "other" columns of every row from what it holds and the vocabulary (in place). */
export function applyVocabulary(x: Matrix, catalogues: readonly CustomerCatalogue[], vocabulary: CatalogueVocabulary, featureNames: readonly string[]): void {
  if (catalogues.length !== x.rows) throw new Error(`${catalogues.length} catalogues for ${x.rows} rows`);
  const col = (name: string) => {
    const i = featureNames.indexOf(name);
    if (i < 0) throw new Error(`feature ${name} missing`);
    return i;
  };
  const productCols = Array.from({ length: PRODUCT_SLOTS }, (_, k) => col(productSlot(k)));
  const priceCols = Array.from({ length: PRICE_SLOTS }, (_, k) => col(priceSlot(k)));
  const countryCols = Array.from({ length: COUNTRY_SLOTS }, (_, k) => col(countrySlot(k)));
  const [otherProducts, otherPrices, otherCountry, vsList] = [col('other_products'), col('other_prices'), col('country_other'), col('price_vs_list')];
  const listed = new Map(vocabulary.listPrices.map((l) => [`${l.account}\u0001${l.product}\u0001${l.currency}`, l.monthlyPerUnit]));
  const list = (account: string, product: string, currency: string) => listed.get(`${account}\u0001${product}\u0001${currency}`);
  const productIndex = new Map(vocabulary.products.map((e, k) => [e.id, k]));
  const priceIndex = new Map(vocabulary.prices.map((e, k) => [e.id, k]));
  const countryIndex = new Map(vocabulary.countries.map((e, k) => [e.id, k]));
  const { cols, data } = x;
  catalogues.forEach((c, r) => {
    const row = r * cols;
    for (const i of [...productCols, ...priceCols, ...countryCols, otherProducts, otherPrices, otherCountry]) data[row + i] = 0;
    for (const p of c.products) {
      const k = productIndex.get(p);
      if (k === undefined) data[row + otherProducts]! += 1;
      else data[row + productCols[k]!] = 1;
    }
    for (const p of c.prices) {
      const k = priceIndex.get(p);
      if (k === undefined) data[row + otherPrices]! += 1;
      else data[row + priceCols[k]!] = 1;
    }
    if (c.country) {
      const k = countryIndex.get(c.country);
      if (k === undefined) data[row + otherCountry] = 1;
      else data[row + countryCols[k]!] = 1;
    }
    data[row + vsList] = priceVsList(c, list);
  });
}
