"""Engine errors raised as billsheet exceptions with the engine's message."""

import shutil

import pytest

import billsheet

SAMPLE_AS_OF = "2026-06-30"


def copy_lake(sample_lake, destination):
    return shutil.copytree(
        sample_lake, destination, ignore=shutil.ignore_patterns("out", "ledger")
    )


def test_exception_hierarchy():
    assert issubclass(billsheet.BillsheetError, Exception)
    assert issubclass(billsheet.InvalidInputError, billsheet.BillsheetError)
    assert billsheet.BillsheetError.__module__ == "billsheet"


def test_bad_sql_raises(sample_workbook):
    with pytest.raises(billsheet.BillsheetError, match="selec"):
        sample_workbook.sql("selec * from invoices")


def test_unknown_column_raises(sample_workbook):
    with pytest.raises(billsheet.BillsheetError, match="no_such_column"):
        sample_workbook.sql("select no_such_column from invoices")


def test_unknown_table_raises(sample_workbook):
    with pytest.raises(
        billsheet.BillsheetError, match="table or view no_such_view not found"
    ):
        sample_workbook.table("no_such_view")


def test_workbook_usable_after_error(sample_workbook):
    with pytest.raises(billsheet.BillsheetError):
        sample_workbook.sql("select 1 +")
    assert sample_workbook.sql("select 1 as one").num_rows == 1


def test_missing_lake_raises(tmp_path):
    missing = tmp_path / "no-such-lake"
    with pytest.raises(billsheet.BillsheetError, match="not found") as raised:
        billsheet.open(missing, as_of=SAMPLE_AS_OF)
    assert str(missing) in str(raised.value)
    assert not isinstance(raised.value, billsheet.InvalidInputError)


def test_missing_required_table_raises(tmp_path, sample_lake):
    lake = copy_lake(sample_lake, tmp_path / "lake")
    (lake / "prices.csv").unlink()
    with pytest.raises(
        billsheet.BillsheetError, match="required table prices not found"
    ):
        billsheet.open(lake, as_of=SAMPLE_AS_OF)


def test_bad_date_in_lake_raises_invalid_input(tmp_path, sample_lake):
    lake = copy_lake(sample_lake, tmp_path / "lake")
    contracts = lake / "contracts.csv"
    text = contracts.read_text()
    assert "K001,C001,TEAM_USD,2026-01-01," in text
    contracts.write_text(
        text.replace("K001,C001,TEAM_USD,2026-01-01,", "K001,C001,TEAM_USD,2026-13-45,")
    )
    with pytest.raises(billsheet.InvalidInputError) as raised:
        billsheet.open(lake, as_of=SAMPLE_AS_OF)
    message = str(raised.value)
    assert message.startswith("invalid input")
    assert "table contracts" in message
    assert "start_date" in message
    assert "2026-13-45" in message
    problem = raised.value.problems[0]
    assert problem["table"] == "contracts"
    assert problem["row"] == 1
    assert problem["column"] == "start_date"
    assert problem["value"] == "2026-13-45"
    assert problem["file"] is None
