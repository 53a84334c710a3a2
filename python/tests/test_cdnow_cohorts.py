"""Cohorts of the CDNOW lake, checked against pandas on the purchase log.

The expected cohorts come straight from CDNOW_master.txt and never read the lake or
a billsheet view. Every purchase is a usage event billed at 1.00 USD per dollar, and
usage revenue is recognized in the month of the usage. So a customer's MRR for a
month is the sum of that month's dollar values, and a month without purchases has an
MRR of zero. A cohort is the first month in which a customer's MRR is above zero.
Months are followed from the cohort month through the last month that ended before the
as-of date.

Money compares exactly as decimal.Decimal, parsed from the log's text. The two ratio
columns are float64 in billsheet, and neither the data contract nor docs/model.md
gives their precision or rounding, so the ratio tests compare them with the exact
fraction.
"""

import datetime
import decimal
import fractions
import os
import pathlib
import subprocess
import sys

import pandas as pd
import pytest

import billsheet

REPO_DIR = pathlib.Path(__file__).resolve().parents[2]
MAKE_CDNOW_LAKE = REPO_DIR / "data" / "make-cdnow-lake"
AS_OF = datetime.date(1998, 7, 1)

# Every customer of the log made a first purchase from January to March 1997. Four
# of them paid 0.00 on that first purchase, and cohorts start at the first MRR above
# zero. So customers 02703 and 04738 join the February cohort, and 10824 and 11378
# form one of November. The 68 customers whose purchases are all 0.00 have no cohort.
FIRST_QUARTER_COHORTS = [
    datetime.date(1997, 1, 1),
    datetime.date(1997, 2, 1),
    datetime.date(1997, 3, 1),
]
ALL_COHORTS = FIRST_QUARTER_COHORTS + [datetime.date(1997, 11, 1)]
CUSTOMERS_WITH_MRR = 23_502

COHORTS_QUERY = """
select cohort_month, months_since, customers, customers_retained, logo_retention,
       mrr, revenue_retention
from cohorts
order by cohort_month, months_since
"""

# Unit roundoff of float64, the maximum relative error of one correctly rounded
# operation.
FLOAT64_UNIT_ROUNDOFF = fractions.Fraction(1, 2**53)


def cdnow_log_path():
    shared = os.environ.get("BILLSHEET_SHARED", REPO_DIR.parent / "shared")
    return pathlib.Path(shared) / "data" / "real" / "cdnow" / "CDNOW_master.txt"


def sum_decimals(values):
    return sum(values, decimal.Decimal(0))


def months_between(start, end):
    return (end.year - start.year) * 12 + end.month - start.month


def last_ended_month(as_of):
    """Return the last month that ended before the day `as_of`."""
    return pd.Period(as_of, freq="M") - 1


def compute_expected_cohorts(log_path, as_of):
    """Compute the cohorts from the purchase log with pandas, without billsheet.

    Returns a dict from (cohort_month, months_since) to the row's columns. Counts are
    ints, mrr is a Decimal, and the two ratios are exact fractions.
    """
    purchases = pd.read_csv(log_path, sep=r"\s+", dtype=str)
    purchases["dollar_value"] = purchases["dollar_value"].map(decimal.Decimal)
    purchase_dates = pd.to_datetime(purchases["date"], format="%Y%m%d")
    purchases["month"] = purchase_dates.dt.to_period("M")

    # MRR per customer and month with purchases.
    monthly_mrr = purchases.groupby(["customer_id", "month"], as_index=False).agg(
        mrr=("dollar_value", sum_decimals)
    )

    # A month of 0.00 purchases only has no MRR, so it neither starts a cohort nor
    # counts as retained.
    paying = monthly_mrr[monthly_mrr["mrr"] > 0].copy()
    cohort_months = paying.groupby("customer_id")["month"].min()
    paying = paying.join(cohort_months.rename("cohort_month"), on="customer_id")
    paying["months_since"] = (paying["month"] - paying["cohort_month"]).map(
        lambda offset: offset.n
    )

    # Per cohort and month, the number of customers with MRR and the sum of their MRR.
    retained = paying.groupby(["cohort_month", "months_since"]).agg(
        customers_retained=("customer_id", "size"),
        mrr=("mrr", sum_decimals),
    )
    cohort_sizes = cohort_months.value_counts()

    last_month = last_ended_month(as_of)
    rows = {}
    for cohort_month, customers in cohort_sizes.items():
        starting_mrr = retained.loc[(cohort_month, 0), "mrr"]
        for months_since in range((last_month - cohort_month).n + 1):
            if (cohort_month, months_since) in retained.index:
                customers_retained, mrr = retained.loc[(cohort_month, months_since)]
            else:
                customers_retained, mrr = 0, decimal.Decimal(0)
            logo_retention = fractions.Fraction(int(customers_retained), customers)
            revenue_retention = fractions.Fraction(mrr) / fractions.Fraction(
                starting_mrr
            )
            rows[(cohort_month.start_time.date(), months_since)] = {
                "customers": int(customers),
                "customers_retained": int(customers_retained),
                "mrr": mrr,
                "logo_retention": logo_retention,
                "revenue_retention": revenue_retention,
            }
    return rows


def column(rows, name):
    return {key: row[name] for key, row in rows.items()}


def outside_float64_bound(actual, exact, roundings):
    """List the keys whose float differs from the exact ratio by more than the bound.

    Each of `roundings` correctly rounded float64 steps changes a value by at most
    FLOAT64_UNIT_ROUNDOFF relative. One more unit covers their second-order products.
    """
    bound = (roundings + 1) * FLOAT64_UNIT_ROUNDOFF
    return [
        key
        for key, ratio in exact.items()
        if abs(fractions.Fraction(actual[key]) - ratio) > bound * ratio
    ]


@pytest.fixture(scope="session")
def cdnow_log():
    path = cdnow_log_path()
    if not path.is_file():
        pytest.skip(
            f"CDNOW log not found at {path}. Set BILLSHEET_SHARED to the folder that "
            "contains data/real/cdnow/CDNOW_master.txt to run these tests."
        )
    return path


@pytest.fixture(scope="session")
def cdnow_lake(cdnow_log, tmp_path_factory):
    lake = tmp_path_factory.mktemp("cdnow") / "lake"
    result = subprocess.run(
        [sys.executable, MAKE_CDNOW_LAKE, "--source", cdnow_log, "--out", lake],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"make-cdnow-lake failed: {result.stderr}"
    return lake


@pytest.fixture(scope="session")
def actual_cohorts(cdnow_lake):
    workbook = billsheet.open(cdnow_lake, as_of=AS_OF)
    rows = workbook.sql(COHORTS_QUERY).to_arrow().to_pylist()
    return {(row["cohort_month"], row["months_since"]): row for row in rows}


@pytest.fixture(scope="session")
def expected_cohorts(cdnow_log):
    return compute_expected_cohorts(cdnow_log, AS_OF)


def test_expected_cohort_months(expected_cohorts):
    cohort_sizes = {
        cohort_month: row["customers"]
        for (cohort_month, months_since), row in expected_cohorts.items()
        if months_since == 0
    }
    assert sorted(cohort_sizes) == ALL_COHORTS
    assert sum(cohort_sizes.values()) == CUSTOMERS_WITH_MRR


def test_cohorts_rows_match(actual_cohorts, expected_cohorts):
    assert sorted(actual_cohorts) == sorted(expected_cohorts)


@pytest.mark.parametrize("cohort_month", FIRST_QUARTER_COHORTS, ids=str)
def test_first_quarter_cohort_followed(actual_cohorts, cohort_month):
    months_since = sorted(k for month, k in actual_cohorts if month == cohort_month)
    last_month = last_ended_month(AS_OF).start_time.date()
    assert months_since == list(range(months_between(cohort_month, last_month) + 1))


@pytest.mark.parametrize("name", ["customers", "customers_retained", "mrr"])
def test_cohorts_exact_column(actual_cohorts, expected_cohorts, name):
    assert column(actual_cohorts, name) == column(expected_cohorts, name)


def test_cohorts_mrr_is_decimal(actual_cohorts):
    mrr_types = {type(row["mrr"]) for row in actual_cohorts.values()}
    assert mrr_types == {decimal.Decimal}


def test_cohorts_logo_retention(actual_cohorts, expected_cohorts):
    # float64 represents both counts exactly, so the division rounds once and the
    # result is the float64 nearest the exact fraction.
    actual = column(actual_cohorts, "logo_retention")
    expected = column(expected_cohorts, "logo_retention")
    assert actual == {key: float(ratio) for key, ratio in expected.items()}


def test_cohorts_revenue_retention(actual_cohorts, expected_cohorts):
    # billsheet casts both decimal sums to float64 and divides them. The bound allows
    # one rounding for each cast and one for the division.
    actual = column(actual_cohorts, "revenue_retention")
    expected = column(expected_cohorts, "revenue_retention")
    assert outside_float64_bound(actual, expected, roundings=3) == []


def test_cohorts_start_at_full_retention(actual_cohorts):
    first_months = {
        cohort_month: row
        for (cohort_month, months_since), row in actual_cohorts.items()
        if months_since == 0
    }
    assert column(first_months, "logo_retention") == dict.fromkeys(first_months, 1.0)
    assert column(first_months, "revenue_retention") == dict.fromkeys(first_months, 1.0)
