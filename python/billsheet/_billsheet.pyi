"""Type stubs of the native module. The documented API is in billsheet.workbook and
billsheet.result, which wrap these classes."""

import os
from pathlib import Path

__version__: str

class BillsheetError(Exception):
    """An error of the billsheet engine, with the engine's message."""

class InvalidInputError(BillsheetError):
    """A lake input that breaks the data contract."""

    problems: list[dict[str, object]]
    """Each problem: table, file, row, column, value (None where not about one cell) and message."""

class ArrowSchema:
    """An Arrow schema exported through ``__arrow_c_schema__``."""

    def __arrow_c_schema__(self) -> object: ...

class Result:
    """The rows of one query as Arrow record batches."""

    @property
    def num_rows(self) -> int: ...
    @property
    def num_batches(self) -> int: ...
    @property
    def schema(self) -> ArrowSchema: ...
    @property
    def column_names(self) -> list[str]: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __len__(self) -> int: ...
    def preview_text(self, limit: int) -> str: ...
    def preview_html(self, limit: int) -> str: ...

class Workbook:
    """A lake opened for one as-of date."""

    @staticmethod
    def open(
        lake: str | os.PathLike[str],
        as_of: str,
        reporting_currency: str = "USD",
        memory_limit: int | None = None,
    ) -> Workbook: ...
    def sql(self, query: str) -> Result: ...
    def table(self, name: str) -> Result: ...
    def register(self, name: str, data: object) -> None: ...
    def run(self, out: str | os.PathLike[str]) -> str:
        """Issues new invoices into the lake's ledger, writes the output views to ``out``
        and returns the manifest as JSON text."""
    @property
    def lake(self) -> Path: ...
    @property
    def as_of(self) -> str: ...
    @property
    def reporting_currency(self) -> str: ...
