"""Prints a Delta table medallion wrote, read by delta-rs (the `deltalake` package): its version, rows and first rows.

    .cache/py/bin/python scripts/read_table.py .medallion/lake/gold/top_100_companies [ROWS]

The venv `npm test` makes (.cache/py) has deltalake and pyarrow; elsewhere `pip install deltalake pyarrow`.
"""
import os
import sys

from deltalake import DeltaTable


def main() -> None:
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    table = DeltaTable(path)
    data = table.to_pyarrow_table()
    print(f"{path}: version {table.version()}, {data.num_rows} rows, columns {', '.join(data.column_names)}")
    for row in data.slice(0, rows).to_pylist():
        print(row)
    sys.stdout.flush()
    # deltalake 1.6.6 now and then aborts while Python shuts down ("terminate called without an active
    # exception", exit 134) after reading a table: the work is done, so the interpreter's teardown is skipped.
    os._exit(0)


if __name__ == "__main__":
    main()
