import { ZERO_DECIMAL_CURRENCIES } from '../db/queries/features.sql.js';

/** Integer minor units as a readable amount: 412000 usd -> "$4,120.00", 1500 jpy -> "¥1,500". */
export function formatMoney(minor: number, currency: string): string {
  const c = currency.toUpperCase();
  const zeroDecimal = ZERO_DECIMAL_CURRENCIES.has(currency.toLowerCase());
  const major = zeroDecimal ? minor : minor / 100;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: c, minimumFractionDigits: zeroDecimal ? 0 : 2 }).format(major);
  } catch {
    return `${major.toFixed(zeroDecimal ? 0 : 2)} ${c}`;
  }
}
