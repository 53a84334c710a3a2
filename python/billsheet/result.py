"""Query results: Arrow record batches held in memory, with zero-copy conversions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from billsheet import _billsheet

if TYPE_CHECKING:
    import pandas
    import polars

#: Rows shown by ``repr()`` and by the HTML table in notebooks.
PREVIEW_ROWS = 20


class Result:
    """Rows of one query, collected in memory as Arrow record batches.

    A result implements the Arrow PyCapsule stream interface (``__arrow_c_stream__``), so
    pyarrow, polars and other consumers of that interface read it without copying values.
    Money columns stay Arrow decimals through every conversion.

    >>> result = workbook.sql("select customer_id, currency from customers order by 1")
    >>> len(result)
    6
    >>> result.column_names
    ['customer_id', 'currency']
    >>> result.to_arrow().column("currency").to_pylist()
    ['USD', 'EUR', 'JPY', 'USD', 'USD', 'EUR']
    """

    __slots__ = ("_native",)

    def __init__(self, native: _billsheet.Result) -> None:
        self._native = native

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the rows as an ``arrow_array_stream`` PyCapsule.

        Each call returns a new stream over the same buffers. ``requested_schema`` is
        ignored, as the interface allows: the stream always has the result's schema.
        """
        return self._native.__arrow_c_stream__(requested_schema)

    @property
    def num_rows(self) -> int:
        """Number of rows."""
        return self._native.num_rows

    @property
    def schema(self) -> pa.Schema:
        """Arrow schema of the rows.

        >>> schema = workbook.sql("select cast(1.5 as decimal(10, 2)) as amount").schema
        >>> schema.field("amount").type
        Decimal128Type(decimal128(10, 2))
        """
        return pa.schema(self._native.schema)

    @property
    def column_names(self) -> list[str]:
        """Column names, in order."""
        return self._native.column_names

    def __len__(self) -> int:
        return self._native.num_rows

    def to_arrow(self) -> pa.Table:
        """Return the rows as a ``pyarrow.Table`` that shares the result's buffers.

        >>> table = workbook.sql("select cast(12.5 as decimal(12, 2)) as total").to_arrow()
        >>> table.column("total").type
        Decimal128Type(decimal128(12, 2))
        >>> table.column("total").to_pylist()
        [Decimal('12.50')]
        """
        return pa.table(self._native)

    def to_pandas(self, **kwargs: Any) -> pandas.DataFrame:
        """Return the rows as a pandas DataFrame.

        Decimal columns become ``object`` columns of ``decimal.Decimal`` values and date
        columns hold ``datetime.date`` values, as ``pyarrow.Table.to_pandas`` converts them
        by default. ``kwargs`` are passed on to ``pyarrow.Table.to_pandas``.

        >>> frame = workbook.sql("select cast(0.1 as decimal(5, 2)) as tax_rate").to_pandas()
        >>> frame["tax_rate"][0]
        Decimal('0.10')
        """
        return self.to_arrow().to_pandas(**kwargs)

    def to_polars(self) -> polars.DataFrame:
        """Return the rows as a polars DataFrame; decimals become ``polars.Decimal``.

        >>> frame = workbook.sql("select cast(2.25 as decimal(9, 2)) as price").to_polars()
        >>> frame.schema["price"]
        Decimal(precision=9, scale=2)
        """
        import polars

        return polars.from_arrow(self.to_arrow())

    def __repr__(self) -> str:
        rows = self.num_rows
        columns = len(self.column_names)
        text = f"<billsheet.Result: {rows} rows x {columns} columns>\n"
        text += self._native.preview_text(PREVIEW_ROWS)
        if rows > PREVIEW_ROWS:
            text += f"\n... {rows - PREVIEW_ROWS} more rows"
        return text

    def _repr_html_(self) -> str:
        rows = self.num_rows
        html = self._native.preview_html(PREVIEW_ROWS)
        shown = min(rows, PREVIEW_ROWS)
        html += f"<p>{shown} of {rows} rows, {len(self.column_names)} columns</p>\n"
        return html
