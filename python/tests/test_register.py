"""Replacing input tables and adding tables with in-memory data."""

import decimal
import hashlib

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import billsheet

SAMPLE_AS_OF = "2026-06-30"
TEN_PERCENT_MORE = decimal.Decimal("1.1")


@pytest.fixture
def workbook(sample_lake):
    """A workbook of its own, for a test that replaces an input table."""
    return billsheet.open(sample_lake, as_of=SAMPLE_AS_OF)


@pytest.fixture(scope="module")
def extended_workbook(sample_lake):
    """A workbook shared by tests that only add tables, each under its own name."""
    return billsheet.open(sample_lake, as_of=SAMPLE_AS_OF)


def raise_unit_prices(prices: pd.DataFrame, factor: decimal.Decimal) -> pd.DataFrame:
    raised = prices.copy()
    raised["unit_price"] = [
        None if p is None else p * factor for p in raised["unit_price"]
    ]
    return raised


def invoice_totals(workbook) -> dict:
    rows = workbook.sql("select invoice_id, total from invoices").to_arrow().to_pylist()
    return {row["invoice_id"]: row["total"] for row in rows}


def lake_digest(lake) -> dict:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.iterdir())
        if path.is_file()
    }


SEAT_LINES = """
    select contract_id, period_start, amount from invoice_lines
    where charge_id = 'seats' and line_type = 'recurring'
"""


def seat_line_amounts(workbook) -> dict:
    rows = workbook.sql(SEAT_LINES).to_arrow().to_pylist()
    return {(row["contract_id"], row["period_start"]): row["amount"] for row in rows}


@pytest.fixture(scope="module")
def price_rise(sample_lake):
    """Invoice totals and seat lines before and after every unit price rises by 10%."""
    workbook = billsheet.open(sample_lake, as_of=SAMPLE_AS_OF)
    before = {
        "invoices": invoice_totals(workbook),
        "seats": seat_line_amounts(workbook),
    }
    prices = workbook.table("prices").to_pandas()
    workbook.register("prices", raise_unit_prices(prices, TEN_PERCENT_MORE))
    after = {"invoices": invoice_totals(workbook), "seats": seat_line_amounts(workbook)}
    return before, after


def test_higher_prices_keep_invoices(price_rise):
    before, after = price_rise
    assert after["invoices"].keys() == before["invoices"].keys()


def test_higher_prices_raise_invoice_totals(price_rise):
    before, after = price_rise
    for invoice_id, total in before["invoices"].items():
        assert after["invoices"][invoice_id] >= total, invoice_id
    assert sum(after["invoices"].values()) > sum(before["invoices"].values())


def test_higher_prices_raise_seat_lines(price_rise):
    before, after = price_rise
    assert before["seats"], "the sample lake has no seat lines"
    assert after["seats"].keys() == before["seats"].keys()
    cent = decimal.Decimal("0.01")
    for key, amount in before["seats"].items():
        # Each line is rounded once from its exact amount, so it may differ by a cent from
        # 110% of the rounded line before.
        expected = amount * TEN_PERCENT_MORE
        assert abs(after["seats"][key] - expected) <= cent, key


def test_register_from_pyarrow_table(workbook):
    prices = workbook.table("prices").to_arrow()
    column = prices.schema.get_field_index("unit_price")
    # pyarrow gives a decimal product the precision p1 + p2 + 1, over the maximum of 38 here.
    narrow = pa.compute.cast(prices.column("unit_price"), pa.decimal128(24, 12))
    raised = pa.compute.multiply(narrow, pa.scalar(TEN_PERCENT_MORE))
    workbook.register("prices", prices.set_column(column, "unit_price", raised))
    after = workbook.sql(
        "select unit_price from prices order by unit_price desc limit 1"
    )
    expected = max(prices.column("unit_price").to_pylist()) * TEN_PERCENT_MORE
    assert after.to_arrow().column("unit_price")[0].as_py() == expected


def test_register_from_polars(workbook):
    prices = workbook.table("prices").to_polars()
    changed = prices.with_columns(pl.col("unit_price") * 2)
    workbook.register("prices", changed)
    top = workbook.sql("select max(unit_price) as top from prices").to_arrow()
    assert top.column("top")[0].as_py() == 2 * prices["unit_price"].max()


def test_register_from_polars_lazy_frame(extended_workbook):
    segments = pl.LazyFrame({"customer_id": ["C001"], "segment": ["enterprise"]})
    extended_workbook.register("lazy_segments", segments)
    result = extended_workbook.sql("select segment from lazy_segments").to_arrow()
    assert result.column("segment").to_pylist() == ["enterprise"]


def test_register_does_not_touch_files(workbook, sample_lake):
    before = lake_digest(sample_lake)
    prices = workbook.table("prices").to_pandas()
    workbook.register("prices", raise_unit_prices(prices, decimal.Decimal(3)))
    assert lake_digest(sample_lake) == before
    reopened = billsheet.open(sample_lake, as_of=SAMPLE_AS_OF)
    original = reopened.table("prices").to_arrow().column("unit_price").to_pylist()
    assert original == prices["unit_price"].tolist()


def test_register_new_table_and_join(extended_workbook):
    segments = pa.table(
        {
            "customer_id": ["C001", "C002", "C003", "C004", "C005", "C006"],
            "segment": ["mid", "enterprise", "enterprise", "smb", "smb", "smb"],
        }
    )
    extended_workbook.register("segments", segments)
    result = extended_workbook.sql(
        """
        select s.segment, count(*) as contracts
        from contracts k join segments s on s.customer_id = k.customer_id
        group by s.segment order by s.segment
        """
    ).to_arrow()
    assert result.column("segment").to_pylist() == ["enterprise", "mid", "smb"]
    assert result.column("contracts").to_pylist() == [2, 1, 3]


def test_register_replaces_added_table(extended_workbook):
    extended_workbook.register("versions", pa.table({"version": ["old"]}))
    extended_workbook.register("versions", pa.table({"version": ["new", "newer"]}))
    result = extended_workbook.sql(
        "select version from versions order by version"
    ).to_arrow()
    assert result.column("version").to_pylist() == ["new", "newer"]


def test_added_table_survives_input_register(workbook):
    workbook.register(
        "segments", pa.table({"customer_id": ["C001"], "segment": ["mid"]})
    )
    workbook.register("prices", workbook.table("prices").to_arrow())
    assert workbook.table("segments").num_rows == 1


def test_register_record_batch(extended_workbook):
    batch = pa.record_batch({"customer_id": ["C001", "C002"], "score": [1, 2]})
    extended_workbook.register("scores", batch)
    result = extended_workbook.sql("select sum(score) as total from scores").to_arrow()
    assert result.column("total").to_pylist() == [3]


def test_register_record_batch_reader(extended_workbook):
    table = pa.table({"n": list(range(10))})
    reader = pa.RecordBatchReader.from_batches(
        table.schema, table.to_batches(max_chunksize=3)
    )
    extended_workbook.register("numbers", reader)
    assert extended_workbook.table("numbers").num_rows == 10


def test_register_pandas_drops_index(extended_workbook):
    frame = pd.DataFrame({"customer_id": ["C001", "C002"]}, index=["a", "b"])
    extended_workbook.register("picked", frame)
    assert extended_workbook.table("picked").column_names == ["customer_id"]


def test_register_result_of_query(extended_workbook):
    usd = extended_workbook.sql(
        "select customer_id from customers where currency = 'USD'"
    )
    extended_workbook.register("usd_customer_ids", usd)
    assert extended_workbook.table("usd_customer_ids").num_rows == usd.num_rows


def test_register_rejects_unsupported_type(extended_workbook):
    with pytest.raises(TypeError, match="cannot register a list"):
        extended_workbook.register("listed", [1, 2, 3])


def test_register_rejects_empty_name(extended_workbook):
    with pytest.raises(ValueError, match="must not be empty"):
        extended_workbook.register(" ", pa.table({"n": [1]}))


def test_register_invalid_prices_names_cell(workbook):
    prices = workbook.table("prices").to_pandas()
    prices["unit_price"] = prices["unit_price"].astype(str)
    prices.loc[0, "unit_price"] = "twenty"
    with pytest.raises(billsheet.InvalidInputError) as raised:
        workbook.register("prices", prices)
    message = str(raised.value)
    assert "prices" in message
    assert "unit_price" in message
    assert "twenty" in message
    problem = raised.value.problems[0]
    assert problem["table"] == "prices"
    assert problem["row"] == 1
    assert problem["column"] == "unit_price"
    assert problem["value"] == "twenty"


def test_rejected_register_keeps_workbook(workbook):
    prices = workbook.table("prices").to_pandas()
    rejected = prices.assign(unit_price="twenty")
    with pytest.raises(billsheet.InvalidInputError):
        workbook.register("prices", rejected)
    meters = workbook.table("meters").to_arrow()
    workbook.register("meters", meters)
    assert (
        workbook.table("prices").to_pandas()["unit_price"].tolist()
        == prices["unit_price"].tolist()
    )


def dunning_stages(workbook) -> dict:
    rows = workbook.sql(
        "select invoice_id, dunning_stage from receivables where days_overdue > 0"
    ).to_arrow()
    return dict(zip(rows["invoice_id"].to_pylist(), rows["dunning_stage"].to_pylist()))


def test_register_dunning_policy_changes_stages(workbook):
    default = dunning_stages(workbook)
    assert default, "the sample lake has overdue invoices"
    assert set(default.values()) <= {
        "reminder",
        "second_reminder",
        "final_notice",
        "suspension",
    }
    policy = pd.DataFrame({"stage": ["call", "collections"], "days_overdue": [1, 100]})
    workbook.register("dunning_policy", policy)
    overdue = workbook.sql(
        "select invoice_id, days_overdue from receivables where days_overdue > 0"
    ).to_arrow()
    expected = {
        invoice: "collections" if days >= 100 else "call"
        for invoice, days in zip(
            overdue["invoice_id"].to_pylist(), overdue["days_overdue"].to_pylist()
        )
    }
    assert "collections" in expected.values()
    assert dunning_stages(workbook) == expected
