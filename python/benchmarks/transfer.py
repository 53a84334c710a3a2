"""Measure how long a large result takes to reach pyarrow, pandas and polars.

Usage: python benchmarks/transfer.py [LAKE] [ROWS]

The query runs once per column set. Each step is timed once with time.perf_counter, so
expect noise of a few percent between runs.
"""

import pathlib
import sys
import time

import billsheet

DEFAULT_LAKE = pathlib.Path(__file__).resolve().parents[2] / "data" / "sample"

COLUMN_SETS = {
    "int64": "value",
    "int64 + decimal(18, 2) + text": (
        "value, cast(value as decimal(18, 2)) / 100 as amount, "
        "case when value % 2 = 0 then 'even' else 'odd' end as parity"
    ),
}


def timed(step, function):
    started = time.perf_counter()
    value = function()
    print(f"  {step:<28} {time.perf_counter() - started:8.3f} s", flush=True)
    return value


def main():
    lake = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_LAKE
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    workbook = timed("open lake", lambda: billsheet.open(lake, as_of="2026-06-30"))
    for name, columns in COLUMN_SETS.items():
        print(f"{rows} rows of {name}:")
        query = f"select {columns} from range({rows})"
        result = timed("query and collect", lambda: workbook.sql(query))
        timed("to_arrow", result.to_arrow)
        timed("to_polars", result.to_polars)
        timed("to_pandas", result.to_pandas)


if __name__ == "__main__":
    main()
