import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * A Postgres array literal: both drivers accept it as one text parameter, so a statement over
 * thousands of rows carries one parameter per column instead of one per value.
 */
export function pgArray(values: readonly (string | number | boolean | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number') out += Number.isFinite(v) ? String(v) : 'NULL';
    else if (typeof v === 'boolean') out += v ? 't' : 'f';
    else out += `"${v.replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

type Row = Record<string, unknown>;

/**
 * `insert into <table> (...) select * from unnest($1::type[], ...)` for many rows at once, with
 * an optional raw `on conflict ...` clause (column names as in the database). Columns are those
 * present in any row; a missing value takes the column's default (or NULL). Building one
 * parameter per value through the query builder cost more CPU than the database's own work.
 */
export function bulkInsert(table: PgTable, rows: Row[], tail = ''): SQL {
  const columns = Object.entries(getTableColumns(table)).filter(([prop]) => rows.some((r) => r[prop] !== undefined));
  const names = columns.map(([, c]) => `"${c.name}"`).join(', ');
  const arrays = columns.map(([prop, c]) => {
    const type = c.getSQLType();
    const isJson = type === 'jsonb' || type === 'json';
    const fallback = c.hasDefault && c.default !== undefined && typeof c.default !== 'object' ? (c.default as string | number | boolean) : null;
    const values = rows.map((r) => {
      const v = r[prop];
      if (v === undefined) return fallback;
      if (v === null) return null;
      return isJson ? JSON.stringify(v) : (v as string | number | boolean);
    });
    return sql`${pgArray(values)}::${sql.raw(type)}[]`;
  });
  return sql`insert into ${sql.raw(`"${getTableName(table)}"`)} (${sql.raw(names)}) select * from unnest(${sql.join(arrays, sql`, `)}) ${sql.raw(tail)}`;
}

/** `col = excluded.col, ...` for every column of the table except the listed ones, with overrides. */
export function excludedAssignments(table: PgTable, except: string[], overrides: Record<string, string> = {}): string {
  return Object.values(getTableColumns(table))
    .filter((c) => !except.includes(c.name))
    .map((c) => `"${c.name}" = ${overrides[c.name] ?? `excluded."${c.name}"`}`)
    .join(', ');
}
