"""Measure how long a large result takes to reach pyarrow, polars and pandas.

Usage:
    python benchmarks/transfer.py [--lake DIR] [--as-of DATE] [--repeat N] [--query SQL ...]

Each query first runs in a newly opened workbook, because the engine keeps the rows of a
built-in view once a query has computed them. Then the query and each conversion run
--repeat times on that workbook and the fastest time is printed, so one slow run does not
decide the result. Without --query the script measures 10 million generated rows, once as
int64 alone and once with a decimal and a text column.
"""

import argparse
import pathlib
import time

import billsheet

SAMPLE_LAKE = pathlib.Path(__file__).resolve().parents[2] / "data" / "sample"

DEFAULT_QUERIES = [
    "select value from range(10000000)",
    (
        "select value, cast(value as decimal(18, 2)) / 100 as amount, "
        "case when value % 2 = 0 then 'even' else 'odd' end as parity from range(10000000)"
    ),
]


def fastest(function, repeat):
    """Return the result of the last call and the fastest of `repeat` timings in seconds."""
    best = float("inf")
    value = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return value, best


def measure(lake, as_of, query, repeat):
    workbook = billsheet.open(lake, as_of=as_of)
    result, first_seconds = fastest(lambda: workbook.sql(query), 1)
    _, repeated_seconds = fastest(lambda: workbook.sql(query), repeat)
    print(f"{query}\n  {result.num_rows} rows, {len(result.column_names)} columns")
    print(f"  {'first query':<20} {first_seconds:8.3f} s")
    print(f"  {'repeated query':<20} {repeated_seconds:8.3f} s")
    for step in ["to_arrow", "to_polars", "to_pandas"]:
        _, seconds = fastest(getattr(result, step), repeat)
        print(f"  {step:<20} {seconds:8.3f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", default=str(SAMPLE_LAKE), help="lake folder")
    parser.add_argument("--as-of", default="2026-06-30", help="as-of date, YYYY-MM-DD")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step")
    parser.add_argument(
        "--query", action="append", help="SQL query to measure; repeatable"
    )
    arguments = parser.parse_args()

    for query in arguments.query or DEFAULT_QUERIES:
        measure(arguments.lake, arguments.as_of, query, arguments.repeat)


if __name__ == "__main__":
    main()
