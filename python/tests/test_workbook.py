"""Opening a lake and querying its tables and views."""

import datetime
import decimal

import pyarrow as pa
import pytest

import billsheet

INVOICE_COLUMNS = [
    "invoice_id",
    "customer_id",
    "contract_id",
    "invoice_date",
    "due_date",
    "currency",
    "subtotal",
    "tax",
    "total",
]
INVOICE_LINE_COLUMNS = [
    "invoice_id",
    "line_no",
    "customer_id",
    "contract_id",
    "invoice_date",
    "line_type",
    "charge_id",
    "period_start",
    "period_end",
    "quantity",
    "proration",
    "amount",
    "currency",
    "description",
]
LINE_TYPES = {"recurring", "usage", "one_time", "adjustment", "commitment", "discount"}

# The output views of the data contract and their key columns.
OUTPUT_VIEW_COLUMNS = {
    "rated_usage": [
        "contract_id",
        "charge_id",
        "meter",
        "period_start",
        "period_end",
        "quantity",
        "amount",
        "currency",
    ],
    "invoice_lines": INVOICE_LINE_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "revenue_schedule": [
        "invoice_id",
        "line_no",
        "contract_id",
        "customer_id",
        "month",
        "amount",
        "currency",
    ],
    "revenue_waterfall": ["invoice_month", "month", "amount", "currency"],
    "deferred_revenue": [
        "month",
        "currency",
        "opening",
        "billed",
        "recognized",
        "closing",
    ],
    "mrr": ["customer_id", "month", "mrr", "recurring_mrr", "usage_mrr"],
    "mrr_movements": ["customer_id", "month", "movement", "delta"],
    "nrr": [
        "month",
        "starting_mrr",
        "new",
        "expansion",
        "contraction",
        "churn",
        "reactivation",
        "nrr",
        "grr",
        "nrr_12m",
        "grr_12m",
    ],
    "cohorts": [
        "cohort_month",
        "months_since",
        "customers",
        "customers_retained",
        "logo_retention",
        "mrr",
        "revenue_retention",
    ],
    "receivables": [
        "invoice_id",
        "customer_id",
        "due_date",
        "total",
        "paid",
        "balance",
        "days_overdue",
        "aging_bucket",
        "dunning_stage",
    ],
    "usage_rejects": [
        "event_id",
        "reason",
        "customer_id",
        "meter",
        "ts",
        "quantity",
        "dimension",
    ],
    "billing_errors": ["contract_id", "reason"],
}


def test_open_accepts_date_and_iso_text(sample_workbook, sample_lake):
    # The session's sample workbook is opened with a datetime.date.
    from_text = billsheet.open(str(sample_lake), as_of="2026-06-30")
    assert sample_workbook.as_of == datetime.date(2026, 6, 30)
    assert from_text.as_of == datetime.date(2026, 6, 30)
    assert from_text.lake == str(sample_lake)
    assert from_text.reporting_currency == "USD"


def test_open_sets_reporting_currency(sample_lake):
    workbook = billsheet.open(sample_lake, as_of="2026-06-30", reporting_currency="EUR")
    assert workbook.reporting_currency == "EUR"
    parameters = workbook.sql(
        "select reporting_currency from billing_parameters"
    ).to_arrow()
    assert parameters.column("reporting_currency").to_pylist() == ["EUR"]


def test_as_of_reaches_views(sample_workbook):
    parameters = sample_workbook.sql("select as_of from billing_parameters").to_arrow()
    assert parameters.column("as_of").to_pylist() == [datetime.date(2026, 6, 30)]


def test_open_rejects_datetime(sample_lake):
    with pytest.raises(TypeError, match="not a datetime"):
        billsheet.open(sample_lake, as_of=datetime.datetime(2026, 6, 30, 12, 0))


def test_open_rejects_invalid_as_of_text(sample_lake):
    with pytest.raises(ValueError, match="2026-02-30"):
        billsheet.open(sample_lake, as_of="2026-02-30")


def test_open_rejects_as_of_number(sample_lake):
    with pytest.raises(TypeError, match="int"):
        billsheet.open(sample_lake, as_of=20260630)


@pytest.mark.parametrize("view", OUTPUT_VIEW_COLUMNS)
def test_output_view_has_key_columns(sample_workbook, view):
    result = sample_workbook.table(view)
    for column in OUTPUT_VIEW_COLUMNS[view]:
        assert column in result.column_names, column


@pytest.fixture(scope="module")
def invoices(sample_workbook):
    return sample_workbook.table("invoices")


@pytest.fixture(scope="module")
def invoice_lines(sample_workbook):
    return sample_workbook.table("invoice_lines")


def test_invoices_have_contract_columns(invoices):
    for column in INVOICE_COLUMNS:
        assert column in invoices.column_names
    assert invoices.num_rows > 0


def test_invoice_money_is_decimal(invoices):
    for column in ["subtotal", "tax", "total"]:
        assert pa.types.is_decimal(invoices.schema.field(column).type), column
    for column in ["invoice_date", "due_date"]:
        assert invoices.schema.field(column).type == pa.date32(), column


def test_invoice_lines_have_contract_columns(invoice_lines):
    for column in INVOICE_LINE_COLUMNS:
        assert column in invoice_lines.column_names
    assert pa.types.is_decimal(invoice_lines.schema.field("amount").type)
    assert pa.types.is_decimal(invoice_lines.schema.field("quantity").type)
    line_types = set(invoice_lines.to_arrow().column("line_type").to_pylist())
    assert line_types <= LINE_TYPES


def test_invoice_totals_add_up(invoices):
    for invoice in invoices.to_arrow().to_pylist():
        assert invoice["subtotal"] + invoice["tax"] == invoice["total"], invoice[
            "invoice_id"
        ]


def test_invoice_subtotals_sum_lines(invoices, invoice_lines):
    line_sums = {}
    for line in invoice_lines.to_arrow().to_pylist():
        line_sums[line["invoice_id"]] = (
            line_sums.get(line["invoice_id"], 0) + line["amount"]
        )
    for invoice in invoices.to_arrow().to_pylist():
        assert line_sums[invoice["invoice_id"]] == invoice["subtotal"], invoice[
            "invoice_id"
        ]


def test_sql_and_table_agree(sample_workbook):
    via_sql = sample_workbook.sql(
        "select * from contracts order by contract_id"
    ).to_arrow()
    via_table = sample_workbook.table("contracts").to_arrow().sort_by("contract_id")
    assert via_sql.column_names == via_table.column_names
    assert via_sql.to_pylist() == via_table.to_pylist()


def test_input_table_has_contract_types(sample_workbook):
    customers = sample_workbook.sql("select * from customers order by customer_id")
    assert len(customers) == 6
    table = customers.to_arrow()
    assert pa.types.is_decimal(table.schema.field("tax_rate").type)
    assert table.column("customer_id").to_pylist()[0] == "C001"
    rates = dict(
        zip(
            table.column("customer_id").to_pylist(),
            table.column("tax_rate").to_pylist(),
        )
    )
    assert rates["C002"] == decimal.Decimal("0.19")


def test_sql_aggregate_stays_decimal(sample_workbook):
    rates = sample_workbook.sql(
        "select currency, sum(tax_rate) as tax_rates from customers group by currency order by currency"
    )
    table = rates.to_arrow()
    assert pa.types.is_decimal(table.schema.field("tax_rates").type)
    assert table.column("currency").to_pylist() == ["EUR", "JPY", "USD"]
    assert table.column("tax_rates").to_pylist() == [
        decimal.Decimal("0.39"),
        decimal.Decimal("0.1"),
        decimal.Decimal(0),
    ]


def test_create_view_is_queryable(sample_workbook):
    workbook = sample_workbook
    workbook.sql(
        "create view usd_customers as select * from customers where currency = 'USD'"
    )
    usd = workbook.table("usd_customers").to_arrow()
    assert usd.column("customer_id").to_pylist() == ["C001", "C004", "C005"]


def test_workbook_repr_names_lake(sample_workbook, sample_lake):
    text = repr(sample_workbook)
    assert str(sample_lake) in text
    assert "2026-06-30" in text
