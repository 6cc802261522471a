/** A table version's columns, partition columns and partitions. */
import type { TableDetail } from '../../../app/tables.js';
import { bytes, count } from '../../components/format.js';

export function SchemaView({ detail }: { detail: TableDetail }) {
  return (
    <>
      <table className="list" aria-label="Schema">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th>Nullable</th>
          </tr>
        </thead>
        <tbody>
          {detail.columns.map((column) => (
            <tr key={column.name}>
              <td className="mono">{column.name}</td>
              <td className="mono">{column.type}</td>
              <td>{column.nullable ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Partitions</h2>
      {detail.partitionColumns.length === 0 ? (
        <p className="muted">Not partitioned.</p>
      ) : (
        <table className="list" aria-label="Partitions">
          <thead>
            <tr>
              {detail.partitionColumns.map((column) => (
                <th key={column} className="mono">
                  {column}
                </th>
              ))}
              <th className="number">Files</th>
              <th className="number">Rows</th>
              <th className="number">Size</th>
            </tr>
          </thead>
          <tbody>
            {detail.partitions.map((partition) => (
              <tr key={JSON.stringify(partition.values)}>
                {detail.partitionColumns.map((column) => (
                  <td key={column}>{partition.values[column] ?? <span className="null">null</span>}</td>
                ))}
                <td className="number">{count(partition.files)}</td>
                <td className="number">{count(partition.rows)}</td>
                <td className="number">{bytes(partition.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
