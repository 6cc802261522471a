/**
 * What a SELECT reads, from the parse tree DuckDB's `json_serialize_sql` gives of it: the tables it names, the
 * table functions it calls and the common table expressions it defines, wherever they sit (joins, subqueries,
 * CTEs, set operations). The walk is generic over the tree, so a node kind it does not know still has its table
 * references found.
 */

export interface TableReference {
  /** Empty when the query does not name one. */
  catalog: string;
  schema: string;
  /** A bare `'file.csv'` is a table reference too, named by its path. */
  table: string;
  /** `AT (VERSION => …)` / `AT (TIMESTAMP => …)`. */
  timeTravel: boolean;
}

export interface QueryReferences {
  tables: TableReference[];
  /** Table functions called in FROM clauses (read_csv, range…), by name as written. */
  functions: string[];
  /** Names of the common table expressions defined anywhere in the query. */
  ctes: Set<string>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const text = (value: Json | undefined): string => (typeof value === 'string' ? value : '');

function isObject(node: Json | undefined): node is { [key: string]: Json } {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function visit(node: Json, found: QueryReferences): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, found);
    return;
  }
  if (!isObject(node)) return;
  if (node.type === 'BASE_TABLE') {
    found.tables.push({
      catalog: text(node.catalog_name),
      schema: text(node.schema_name),
      table: text(node.table_name),
      timeTravel: isObject(node.at_clause),
    });
  }
  if (node.type === 'TABLE_FUNCTION' && isObject(node.function)) {
    found.functions.push(text(node.function.function_name));
  }
  const ctes = isObject(node.cte_map) ? node.cte_map.map : undefined;
  if (Array.isArray(ctes)) {
    for (const entry of ctes) if (isObject(entry)) found.ctes.add(text(entry.key));
  }
  for (const child of Object.values(node)) visit(child, found);
}

/** The references of the statements of a `json_serialize_sql` answer (its JSON text). */
export function queryReferences(serialized: string): QueryReferences {
  const found: QueryReferences = { tables: [], functions: [], ctes: new Set() };
  visit(JSON.parse(serialized) as Json, found);
  return found;
}
