"""The workbook: a lake opened for one as-of date, queried with SQL."""

from __future__ import annotations

import datetime
import json
import os
import sys
from typing import Any, Union

import pyarrow as pa

from billsheet import _billsheet
from billsheet.result import Result

#: A lake folder or an output folder.
PathLike = Union[str, "os.PathLike[str]"]


class Workbook:
    """A lake opened for one as-of date.

    Every input table and every view of the data contract (``invoices``,
    ``invoice_lines``, ``rated_usage`` …) can be queried with SQL. Nothing is computed
    before the first query, and the engine keeps the rows of each built-in view once a
    query has computed them. ``register`` of an input table recomputes the views. Queries
    run with the GIL released, and Ctrl-C on the main thread cancels them.

    Create one with :func:`billsheet.open`.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _billsheet.Workbook) -> None:
        self._native = native

    @property
    def lake(self) -> str:
        """Lake folder, as given to :func:`billsheet.open`."""
        return os.fspath(self._native.lake)

    @property
    def as_of(self) -> datetime.date:
        """Day of the run: the views show what is known and issued through its end."""
        return datetime.date.fromisoformat(self._native.as_of)

    @property
    def reporting_currency(self) -> str:
        """ISO 4217 code of the currency of metrics."""
        return self._native.reporting_currency

    def sql(self, query: str) -> Result:
        """Run one SQL statement and collect its rows.

        The statement can read every input table and view. A ``create view`` statement
        adds a view until the next ``register`` of an input table, which redefines the
        views from the lake.

        >>> workbook.sql("select count(*) as customers from customers").to_arrow().to_pylist()
        [{'customers': 6}]

        Raises:
            BillsheetError: the statement is invalid or fails.
        """
        return Result(self._native.sql(query))

    def table(self, name: str) -> Result:
        """Collect every row of an input table or a view.

        >>> customers = workbook.table("customers")
        >>> customers.column_names[:3]
        ['customer_id', 'name', 'currency']

        Raises:
            BillsheetError: no table or view has that name.
        """
        return Result(self._native.table(name))

    def register(self, name: str, data: Any) -> None:
        """Replace an input table, or add a table, with in-memory data. No file changes.

        ``data`` can be any object that implements the Arrow PyCapsule interface
        (``__arrow_c_stream__`` or ``__arrow_c_array__``: a pyarrow Table, RecordBatch or
        RecordBatchReader, a billsheet Result …), a pandas DataFrame (its index is
        dropped) or a polars DataFrame or LazyFrame.

        Registering an input table of the data contract (``prices``, ``usage`` …)
        validates it like a file of the lake and redefines every view, which drops views
        made with ``create view``. Any other name adds a plain table for queries to join.

        >>> import decimal
        >>> import pyarrow.compute as pc
        >>> what_if = billsheet.open(workbook.lake, as_of=workbook.as_of)
        >>> prices = what_if.table("prices").to_arrow()
        >>> # A decimal(38, 12) price leaves no precision for a product, so narrow it first.
        >>> unit_price = pc.cast(prices["unit_price"], pa.decimal128(24, 12))
        >>> raised = pc.multiply(unit_price, pa.scalar(decimal.Decimal("1.1")))
        >>> column = prices.schema.get_field_index("unit_price")
        >>> what_if.register("prices", prices.set_column(column, "unit_price", raised))
        >>> what_if.sql("select max(unit_price) as top from prices").to_arrow()["top"][0].as_py()
        Decimal('1650.000000000000')

        Raises:
            InvalidInputError: the data breaks the data contract of input table ``name``.
            TypeError: ``data`` is not a supported table type.
        """
        self._native.register(name, _to_arrow_stream(data))

    def run(self, out: PathLike | None = None) -> dict[str, Any]:
        """Issue the new invoices, write every output view as a Parquet file and return
        the run manifest.

        Like ``billsheet run``, this appends every invoice due through ``as_of`` that is
        not issued yet to the lake's ledger, ``<lake>/ledger/``, with the next invoice
        numbers. A workbook with registered tables is a what-if: its run issues nothing
        and the manifest's ``ledger`` section contains ``what_if: true``.

        ``out`` defaults to ``<lake>/out/<as_of>``. The views are written to a temporary
        folder that replaces ``out`` only when all of them are written, so a failed run
        leaves ``out`` as it was. The returned dict is the ``manifest.json`` written
        beside the views: row counts, invoice totals, usage accounting, input checksums
        and what the run issued into the ledger.

        Raises:
            BillsheetError: another run holds the lake's ledger lock, the ledger is
                damaged, or a view cannot be computed or written.
        """
        if out is None:
            out = os.path.join(self.lake, "out", self.as_of.isoformat())
        return json.loads(self._native.run(os.fspath(out)))

    def __repr__(self) -> str:
        return (
            f"<billsheet.Workbook lake={self.lake!r} as_of={self.as_of.isoformat()} "
            f"reporting_currency={self.reporting_currency}>"
        )


def open(
    lake: PathLike,
    as_of: datetime.date | str,
    reporting_currency: str = "USD",
    memory_limit: int | None = None,
) -> Workbook:
    """Open the lake folder ``lake`` for the day ``as_of`` and validate its inputs.

    ``as_of`` is a ``datetime.date`` or an ISO date string (``"2026-06-30"``).
    ``reporting_currency`` is the ISO 4217 currency of metrics. ``memory_limit`` is the
    engine's memory limit for query execution in bytes, and None sets no limit.

    >>> wb = billsheet.open(SAMPLE_LAKE, as_of=datetime.date(2026, 6, 30))
    >>> wb.as_of
    datetime.date(2026, 6, 30)

    Raises:
        BillsheetError: the lake folder or a required table is missing.
        InvalidInputError: an input breaks the data contract; ``problems`` lists each
            problem with its table, row, column and value.
        ValueError: ``as_of`` is not a valid date.
    """
    if isinstance(as_of, datetime.datetime):
        raise TypeError("as_of must be a date, not a datetime")
    if isinstance(as_of, datetime.date):
        as_of = as_of.isoformat()
    elif not isinstance(as_of, str):
        raise TypeError(
            f"as_of must be a datetime.date or an ISO date string, not {type(as_of).__name__}"
        )
    native = _billsheet.Workbook.open(
        os.fspath(lake), as_of, reporting_currency, memory_limit
    )
    return Workbook(native)


def _to_arrow_stream(data: Any) -> Any:
    """Return ``data`` as an object with the Arrow PyCapsule interface.

    pandas and polars frames are converted here rather than through their own
    ``__arrow_c_stream__``, so that the pandas index is always dropped and a polars
    LazyFrame is collected first.
    """
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    polars = sys.modules.get("polars")
    if polars is not None and isinstance(data, polars.LazyFrame):
        return data.collect().to_arrow()
    if polars is not None and isinstance(data, polars.DataFrame):
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return data
    raise TypeError(
        f"cannot register a {type(data).__name__}: expected a pyarrow Table, an object "
        "with __arrow_c_stream__ or __arrow_c_array__, or a pandas or polars DataFrame"
    )
