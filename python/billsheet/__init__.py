"""billsheet: an analytical billing engine on Apache Arrow, for notebooks and scripts.

A lake is a folder of input tables (customers, contracts, prices, usage …). Open it for
one as-of date and query its views with SQL. Results convert to pyarrow, pandas and polars
without copying values, and money stays decimal.

>>> import pathlib
>>> import billsheet
>>> lake = pathlib.Path(billsheet.__file__).parents[2] / "data" / "sample"
>>> workbook = billsheet.open(lake, as_of="2026-06-30")
>>> invoices = workbook.sql("select invoice_id, total from invoices order by invoice_id")
>>> invoices.schema.field("total").type
Decimal128Type(decimal128(...))
>>> invoices.to_pandas()["total"].map(type).unique().tolist()
[<class 'decimal.Decimal'>]
"""

from billsheet._billsheet import BillsheetError, InvalidInputError, __version__
from billsheet.result import Result
from billsheet.workbook import Workbook, open

__all__ = [
    "BillsheetError",
    "InvalidInputError",
    "Result",
    "Workbook",
    "__version__",
    "open",
]
