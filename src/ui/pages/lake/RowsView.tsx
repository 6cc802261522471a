/** A version's rows, a page at a time, sorted by the column whose header was clicked. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Row, RowsPage, SortOrder } from '../../../app/table-rows.js';
import type { ColumnInfo } from '../../../app/tables.js';
import { api } from '../../api/client.js';
import { count } from '../../components/format.js';
import { Cell, isNumeric, NotYet } from './format.js';
import { apiPath, tablePath, useLakeState } from './state.js';

const PAGE = 50;

interface Sorting {
  sort: string | undefined;
  order: SortOrder;
  /** Sort by the column (again: the other way). */
  onSort(column: string): void;
}

/** Rows under their columns; with `sorting`, sortable headers are buttons. */
export function RowsGrid({
  columns,
  rows,
  label,
  sorting,
}: {
  columns: ColumnInfo[];
  rows: Row[];
  label: string;
  sorting?: Sorting;
}) {
  return (
    <div className="rows-scroll">
      <table className="list rows" aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = sorting?.sort === column.name ? sorting.order : undefined;
              return (
                <th
                  key={column.name}
                  className={isNumeric(column.type) ? 'number' : undefined}
                  aria-sort={sorted ? (sorted === 'asc' ? 'ascending' : 'descending') : undefined}
                  title={column.type}
                >
                  {sorting && column.sortable ? (
                    <button type="button" className="sort" onClick={() => sorting.onSort(column.name)}>
                      {column.name}
                      <span aria-hidden="true">
                        {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                      </span>
                    </button>
                  ) : (
                    column.name
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              {columns.map((column) => (
                <td key={column.name} className={isNumeric(column.type) ? 'number' : undefined}>
                  <Cell value={row[column.name]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RowsView({ layer, table }: { layer: string; table: string }) {
  const { state, go } = useLakeState();
  const { lake, version, offset, sort, order } = state;
  const rows = useQuery({
    queryKey: ['lake', 'rows', lake, layer, table, version, offset, sort, order],
    queryFn: () =>
      api<RowsPage>(
        apiPath(tablePath({ layer, table }, '/rows'), {
          lake,
          version,
          offset,
          limit: PAGE,
          sort,
          order: sort ? order : undefined,
        }),
      ),
    placeholderData: keepPreviousData,
  });
  if (rows.error || !rows.data) return <NotYet query={rows} what="rows" />;
  const page = rows.data;
  const last = Math.min(page.offset + page.rows.length, page.total);
  return (
    <section aria-label="Rows">
      <div className="pager">
        <span>
          {page.total === 0
            ? 'No rows'
            : `Rows ${count(page.offset + 1)}–${count(last)} of ${count(page.total)} (version ${page.version})`}
        </span>
        <button
          type="button"
          disabled={page.offset === 0}
          onClick={() => go({ offset: Math.max(0, page.offset - PAGE) || undefined })}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={last >= page.total}
          onClick={() => go({ offset: page.offset + PAGE })}
        >
          Next
        </button>
      </div>
      <RowsGrid
        columns={page.columns}
        rows={page.rows}
        label="Rows"
        sorting={{
          sort: page.sort ?? undefined,
          order: page.order,
          onSort: (column) =>
            go({ sort: column, order: page.sort === column && page.order === 'asc' ? 'desc' : undefined }),
        }}
      />
    </section>
  );
}
