"""Reads a Delta table with delta-rs (an independent Delta reader) and writes its rows to one Parquet file.

Usage: delta_export.py TABLE_DIR OUT_PARQUET [VERSION]
Prints a JSON line with the version read and the row count.
"""
import json
import os
import sys

import pyarrow.parquet as pq
from deltalake import DeltaTable


def main() -> None:
    table_dir, out = sys.argv[1], sys.argv[2]
    version = int(sys.argv[3]) if len(sys.argv) > 3 else None
    table = DeltaTable(table_dir, version=version)
    data = table.to_pyarrow_table()
    pq.write_table(data, out)
    protocol = table.protocol()
    print(json.dumps({
        "version": table.version(),
        "rows": data.num_rows,
        "minReaderVersion": protocol.min_reader_version,
        "minWriterVersion": protocol.min_writer_version,
        "partitionColumns": table.metadata().partition_columns,
    }))
    sys.stdout.flush()
    # deltalake 1.6.6 now and then aborts while Python shuts down ("terminate called without an active
    # exception", exit 134) after reading a table: the work is done, so the interpreter's teardown is skipped.
    os._exit(0)


if __name__ == "__main__":
    main()
