"""Shared pytest fixtures, and the names that doctests in the billsheet package use."""

import datetime
import pathlib

import pyarrow as pa
import pytest

import billsheet

SAMPLE_LAKE = pathlib.Path(__file__).resolve().parent.parent / "data" / "sample"
SAMPLE_AS_OF = datetime.date(2026, 6, 30)


@pytest.fixture(scope="session")
def sample_lake() -> pathlib.Path:
    return SAMPLE_LAKE


@pytest.fixture(scope="session")
def sample_workbook() -> billsheet.Workbook:
    """The sample lake opened once per session; tests that register must open their own."""
    return billsheet.open(SAMPLE_LAKE, as_of=SAMPLE_AS_OF)


@pytest.fixture(autouse=True)
def doctest_names(request, doctest_namespace):
    # Only doctests open the sample workbook here, so a unit test that does not need it
    # does not fail when the sample lake cannot be opened.
    if isinstance(request.node, pytest.DoctestItem):
        doctest_namespace.update(
            billsheet=billsheet,
            datetime=datetime,
            pa=pa,
            SAMPLE_LAKE=SAMPLE_LAKE,
            workbook=request.getfixturevalue("sample_workbook"),
        )
