"""Materializing the output views with Workbook.run."""

import datetime
import decimal
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import billsheet

# The output views of the data contract, each written as NAME.parquet.
OUTPUT_VIEWS = [
    "rated_usage",
    "invoice_lines",
    "invoices",
    "revenue_schedule",
    "revenue_waterfall",
    "deferred_revenue",
    "mrr",
    "mrr_movements",
    "nrr",
    "cohorts",
    "receivables",
    "usage_rejects",
    "billing_errors",
]


@pytest.fixture(scope="module")
def run_workbook(sample_lake, tmp_path_factory):
    """The sample lake copied without its ledger, so that its first run issues invoices."""
    lake = tmp_path_factory.mktemp("run-lake") / "lake"
    shutil.copytree(sample_lake, lake, ignore=shutil.ignore_patterns("out", "ledger"))
    return billsheet.open(lake, as_of=datetime.date(2026, 6, 30))


@pytest.fixture(scope="module")
def run_output(run_workbook, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "2026-06-30"
    return out, run_workbook.run(out=out)


@pytest.mark.parametrize("view", OUTPUT_VIEWS)
def test_run_writes_view(run_output, view):
    out, manifest = run_output
    written = {table["name"]: table for table in manifest["tables"]}
    assert view in written
    path = out / written[view]["file"]
    assert path == out / f"{view}.parquet"
    assert path.is_file()
    assert pq.read_metadata(path).num_rows == written[view]["rows"]


def test_run_writes_manifest_file(run_output):
    out, manifest = run_output
    written = json.loads((out / "manifest.json").read_text())
    assert written == manifest
    assert manifest["as_of"] == "2026-06-30"
    assert manifest["usage"]["balanced"] is True


def test_run_invoices_match_view(run_output, sample_workbook):
    out, _ = run_output
    written = pq.read_table(out / "invoices.parquet").sort_by("invoice_id")
    queried = sample_workbook.sql(
        "select * from invoices order by invoice_id"
    ).to_arrow()
    assert pa.types.is_decimal(written.schema.field("total").type)
    assert written.drop_columns(["invoice_number"]).to_pylist() == queried.to_pylist()


def test_run_issues_numbered_invoices(run_output):
    out, manifest = run_output
    written = pq.read_table(out / "invoices.parquet")
    ledger = manifest["ledger"]
    assert ledger["issued"] == written.num_rows
    assert ledger["batch"] == "batch-000001"
    assert ledger["first_number"] == 1
    assert ledger["last_number"] == written.num_rows
    numbers = sorted(written.column("invoice_number").to_pylist())
    assert numbers == list(range(1, written.num_rows + 1))
    ledger_folder = Path(ledger["folder"])
    issued = pq.read_table(ledger_folder / "batch-000001" / "invoices.parquet")
    assert issued.column("invoice_number").to_pylist() == list(
        range(1, written.num_rows + 1)
    )


def test_run_manifest_totals_match_invoices(run_output, sample_workbook):
    _, manifest = run_output
    query = "select currency, sum(total) as total from invoices group by currency"
    rows = sample_workbook.sql(query).to_arrow().to_pylist()
    expected = {row["currency"]: row["total"] for row in rows}
    reported = {
        t["currency"]: decimal.Decimal(t["total"]) for t in manifest["invoice_totals"]
    }
    assert reported == expected


def test_run_twice_issues_nothing_more(run_output, run_workbook):
    out, manifest = run_output
    again = run_workbook.run(out=out)
    assert again["ledger"]["issued"] == 0
    assert again["ledger"]["batch"] is None
    assert again["ledger"]["ledger_invoices"] == manifest["ledger"]["ledger_invoices"]
    assert again["ledger"]["differences"] == 0
    without_ledger = {key: value for key, value in manifest.items() if key != "ledger"}
    assert {key: value for key, value in again.items() if key != "ledger"} == without_ledger


@pytest.fixture(scope="module")
def what_if_run(sample_lake, tmp_path_factory):
    """A run with the default output folder of a lake copy whose unit prices are doubled."""
    lake = tmp_path_factory.mktemp("what-if") / "lake"
    shutil.copytree(sample_lake, lake, ignore=shutil.ignore_patterns("out", "ledger"))
    workbook = billsheet.open(lake, as_of=datetime.date(2026, 6, 30))
    prices = workbook.table("prices").to_pandas()
    prices["unit_price"] = [None if p is None else p * 2 for p in prices["unit_price"]]
    workbook.register("prices", prices)
    return lake, workbook.run()


def test_what_if_run_issues_nothing(what_if_run):
    lake, manifest = what_if_run
    ledger = manifest["ledger"]
    assert ledger["what_if"] is True
    assert ledger["issued"] == 0
    assert ledger["unissued"] > 0
    assert not list((lake / "ledger").glob("batch-*"))


def test_run_default_out_is_in_lake(what_if_run):
    lake, manifest = what_if_run
    out = lake / "out" / "2026-06-30"
    assert (out / "manifest.json").is_file()
    assert (out / "invoices.parquet").is_file()
    assert manifest["as_of"] == "2026-06-30"


def test_run_uses_registered_data(what_if_run, run_output):
    _, baseline = run_output
    _, doubled = what_if_run
    totals_before = {
        t["currency"]: decimal.Decimal(t["total"]) for t in baseline["invoice_totals"]
    }
    totals_after = {
        t["currency"]: decimal.Decimal(t["total"]) for t in doubled["invoice_totals"]
    }
    assert totals_after.keys() == totals_before.keys()
    for currency, total in totals_before.items():
        assert totals_after[currency] > total, currency
