//! The input tables of the data contract: their columns, types and defaults.
//!
//! This is the one definition of the contract's input schema. The loader builds the typed
//! views from it, and validation checks raw values against it.

/// The type a contract column is cast to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Date,
    Timestamp,
    /// An exact decimal: money, rates and quantities other than usage quantities.
    Decimal,
    /// A usage quantity: an exact decimal with 9 decimal places; floats are accepted.
    Quantity,
    Int,
}

impl ColumnType {
    /// The SQL type of the typed view's column.
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnType::Text => "varchar",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Decimal => "decimal(38, 12)",
            ColumnType::Quantity => "decimal(38, 9)",
            ColumnType::Int => "bigint",
        }
    }

    /// The Arrow type of the typed view's column.
    pub fn arrow_type(self) -> arrow::datatypes::DataType {
        use arrow::datatypes::{DataType, TimeUnit};
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
            ColumnType::Decimal => DataType::Decimal128(38, 12),
            ColumnType::Quantity => DataType::Decimal128(38, 9),
            ColumnType::Int => DataType::Int64,
        }
    }

    /// What a value of this type looks like, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Date => "a date (YYYY-MM-DD)",
            ColumnType::Timestamp => "a timestamp (RFC 3339, e.g. 2026-01-31T23:59:59Z)",
            ColumnType::Decimal | ColumnType::Quantity => "a decimal number",
            ColumnType::Int => "an integer",
        }
    }
}

/// One column of an input table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub column_type: ColumnType,
    /// A required column must be present and non-null in every row.
    pub required: bool,
    /// SQL expression for the value of a missing or null optional column.
    pub default_sql: Option<&'static str>,
}

/// One input table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// A required table must exist in the lake.
    pub required: bool,
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// Returns the column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn req(name: &'static str, column_type: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        column_type,
        required: true,
        default_sql: None,
    }
}

const fn opt(name: &'static str, column_type: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        column_type,
        required: false,
        default_sql: None,
    }
}

const fn def(
    name: &'static str,
    column_type: ColumnType,
    default_sql: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        column_type,
        required: false,
        default_sql: Some(default_sql),
    }
}

use ColumnType::*;

pub const CUSTOMERS: TableSpec = TableSpec {
    name: "customers",
    required: true,
    columns: &[
        req("customer_id", Text),
        opt("name", Text),
        req("currency", Text),
        def("timezone", Text, "'UTC'"),
        def("tax_rate", Decimal, "0"),
        def("net_terms_days", Int, "30"),
    ],
};

pub const CONTRACTS: TableSpec = TableSpec {
    name: "contracts",
    required: true,
    columns: &[
        req("contract_id", Text),
        req("customer_id", Text),
        req("rate_card_id", Text),
        req("start_date", Date),
        opt("end_date", Date),
        def("billing_anchor", Date, "start_date"),
        opt("commit_amount", Decimal),
        def("commit_interval", Text, "'month'"),
        def("discount_pct", Decimal, "0"),
        def("grace_days", Int, "0"),
    ],
};

pub const CONTRACT_ITEMS: TableSpec = TableSpec {
    name: "contract_items",
    required: false,
    columns: &[
        req("contract_id", Text),
        req("charge_id", Text),
        def("quantity", Decimal, "1"),
        req("effective_from", Date),
        opt("effective_to", Date),
        opt("recorded_at", Timestamp),
    ],
};

pub const PRICES: TableSpec = TableSpec {
    name: "prices",
    required: true,
    columns: &[
        req("rate_card_id", Text),
        opt("contract_id", Text),
        req("charge_id", Text),
        req("charge_type", Text),
        opt("meter", Text),
        opt("dimension", Text),
        req("pricing_model", Text),
        def("tier", Int, "1"),
        opt("up_to", Decimal),
        def("unit_price", Decimal, "0"),
        def("flat_fee", Decimal, "0"),
        opt("package_size", Decimal),
        def("interval", Text, "'month'"),
        def(
            "timing",
            Text,
            "case when charge_type = 'usage' then 'arrears' else 'advance' end",
        ),
        req("currency", Text),
        opt("effective_from", Date),
        opt("effective_to", Date),
        opt("description", Text),
    ],
};

pub const METERS: TableSpec = TableSpec {
    name: "meters",
    required: false,
    columns: &[
        req("meter", Text),
        req("aggregation", Text),
        opt("unit", Text),
    ],
};

pub const USAGE: TableSpec = TableSpec {
    name: "usage",
    required: false,
    columns: &[
        req("event_id", Text),
        req("customer_id", Text),
        req("meter", Text),
        req("ts", Timestamp),
        def("quantity", Quantity, "1"),
        opt("dimension", Text),
        opt("received_at", Timestamp),
    ],
};

pub const FX_RATES: TableSpec = TableSpec {
    name: "fx_rates",
    required: false,
    columns: &[
        req("date", Date),
        req("from_currency", Text),
        req("to_currency", Text),
        req("rate", Decimal),
    ],
};

pub const PAYMENTS: TableSpec = TableSpec {
    name: "payments",
    required: false,
    columns: &[
        req("payment_id", Text),
        req("invoice_id", Text),
        req("paid_at", Timestamp),
        req("amount", Decimal),
        req("status", Text),
    ],
};

/// The dunning policy: an invoice reaches `stage` once it is `days_overdue` days overdue.
/// Not part of the data contract's tables; without it a default policy applies (see
/// `sql/11_receivables.sql`).
pub const DUNNING_POLICY: TableSpec = TableSpec {
    name: "dunning_policy",
    required: false,
    columns: &[req("stage", Text), req("days_overdue", Int)],
};

/// Every input table, in the order they are loaded and validated.
pub const INPUT_TABLES: &[TableSpec] = &[
    CUSTOMERS,
    CONTRACTS,
    CONTRACT_ITEMS,
    PRICES,
    METERS,
    USAGE,
    FX_RATES,
    PAYMENTS,
    DUNNING_POLICY,
];

/// Returns the input table named `name`.
pub fn input_table(name: &str) -> Option<&'static TableSpec> {
    INPUT_TABLES.iter().find(|t| t.name == name)
}
