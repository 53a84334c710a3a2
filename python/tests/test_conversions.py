"""Results as pyarrow, pandas and polars, and their previews."""

import datetime
import decimal
import math

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest


@pytest.fixture(scope="module")
def prices(sample_workbook):
    """Input rows with text, integers, decimals, dates and nulls."""
    return sample_workbook.sql(
        "select * from prices order by rate_card_id, charge_id, tier"
    )


def normalize_missing(value):
    """Map the missing-value markers of pandas (None, NaN, NaT, pd.NA) to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def test_pandas_agrees_with_arrow(prices):
    table = prices.to_arrow()
    frame = prices.to_pandas()
    assert list(frame.columns) == table.column_names
    assert len(frame) == table.num_rows
    rows = [
        {k: normalize_missing(v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    assert rows == table.to_pylist()


def test_polars_agrees_with_arrow(prices):
    table = prices.to_arrow()
    frame = prices.to_polars()
    assert frame.columns == table.column_names
    assert frame.height == table.num_rows
    assert frame.to_dicts() == table.to_pylist()


def test_pandas_money_is_python_decimal(prices):
    unit_prices = prices.to_pandas()["unit_price"]
    assert unit_prices.dtype == object
    assert all(isinstance(value, decimal.Decimal) for value in unit_prices)


def test_pandas_dates_are_python_dates(sample_workbook):
    frame = sample_workbook.table("contracts").to_pandas()
    assert all(isinstance(value, datetime.date) for value in frame["start_date"])


def test_polars_money_is_decimal(prices):
    frame = prices.to_polars()
    assert isinstance(frame.schema["unit_price"], pl.Decimal)


def test_decimal_precision_and_scale_survive(sample_workbook):
    result = sample_workbook.sql("select cast('12.345' as decimal(10, 3)) as price")
    assert result.schema.field("price").type == pa.decimal128(10, 3)
    assert result.to_arrow().column("price").to_pylist() == [decimal.Decimal("12.345")]
    assert result.to_pandas()["price"][0] == decimal.Decimal("12.345")
    assert result.to_polars().schema["price"] == pl.Decimal(10, 3)


def test_stream_capsule_read_by_pyarrow(prices):
    reader = pa.RecordBatchReader.from_stream(prices)
    assert reader.schema == prices.schema
    assert reader.read_all().equals(prices.to_arrow())


def test_stream_capsule_read_twice(prices):
    first = pa.table(prices)
    second = pa.table(prices)
    assert first.equals(second)
    assert first.num_rows == prices.num_rows


def test_polars_reads_stream_capsule(prices):
    frame = pl.DataFrame(prices)
    assert frame.height == prices.num_rows
    assert frame.columns == prices.column_names


def test_to_arrow_shares_buffers(sample_workbook):
    result = sample_workbook.sql("select value from range(1000)")
    first = result.to_arrow().column("value").chunk(0).buffers()[1]
    second = result.to_arrow().column("value").chunk(0).buffers()[1]
    assert first.address == second.address


def test_many_batches_convert_whole(sample_workbook):
    result = sample_workbook.sql("select value from range(1000000)")
    assert result.num_rows == 1_000_000
    assert len(result) == 1_000_000
    table = result.to_arrow()
    assert table.num_rows == 1_000_000
    assert pa.compute.sum(table.column("value")).as_py() == 999_999 * 1_000_000 // 2


def test_empty_result_keeps_schema(sample_workbook):
    result = sample_workbook.sql(
        "select customer_id, tax_rate from customers where false"
    )
    assert result.num_rows == 0
    assert result.column_names == ["customer_id", "tax_rate"]
    assert pa.types.is_decimal(result.schema.field("tax_rate").type)
    assert result.to_arrow().num_rows == 0
    assert list(result.to_pandas().columns) == ["customer_id", "tax_rate"]
    assert result.to_polars().columns == ["customer_id", "tax_rate"]


def test_repr_shows_bounded_preview(sample_workbook):
    text = repr(sample_workbook.sql("select value from range(100)"))
    assert text.startswith("<billsheet.Result: 100 rows x 1 columns>")
    assert "| 19    |" in text
    assert "| 20    |" not in text
    assert text.endswith("... 80 more rows")


def test_repr_of_empty_result_shows_header(sample_workbook):
    text = repr(sample_workbook.sql("select customer_id from customers where false"))
    assert "0 rows" in text
    assert "customer_id" in text


def test_html_preview_is_bounded(sample_workbook):
    html = sample_workbook.sql("select value from range(100)")._repr_html_()
    assert html.count("<tr>") == 21
    assert "20 of 100 rows" in html


def test_html_preview_escapes_text(sample_workbook):
    html = sample_workbook.sql(
        "select name from customers where customer_id = 'C004'"
    )._repr_html_()
    assert "<td>Harbor &amp; Pine Studio LLC</td>" in html


def test_html_preview_escapes_markup(sample_workbook):
    html = sample_workbook.sql("select '<b>bold</b>' as note")._repr_html_()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>" not in html


def test_html_preview_shows_decimal_and_null(sample_workbook):
    html = sample_workbook.sql(
        "select cast('0.50' as decimal(5, 2)) as rate, cast(null as varchar) as note"
    )._repr_html_()
    assert "<td>0.50</td>" in html
    assert "<td>null</td>" in html
    assert "Decimal128(5, 2)" in html
