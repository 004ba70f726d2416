"""Bad input to impact, lineage show, serve and diagnose is a clear error, not a silent answer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import NotFoundError
from tests.lineage.test_cli import FIXTURES, hw

RUN = CliRunner()


@pytest.fixture
def ran(mini):
    from headwater.platform import Platform

    platform = Platform(mini)
    assert platform.run().ok
    return platform


def test_impact_of_an_unknown_column_names_the_columns_there_are(ran):
    with pytest.raises(NotFoundError) as caught:
        ran.lineage.impact("stg_orders.no_such_column")
    err = caught.value
    assert "stg_orders has no column 'no_such_column'" in err.message
    assert "amount" in err.message and "order_id" in err.message
    assert "headwater impact stg_orders." in err.fix
    assert ran.lineage.impact("stg_orders.amount")["column"] == "amount"
    assert ran.lineage.impact("stg_orders.AMOUNT")["column"] == "amount"  # as the dataset spells it


def test_impact_of_an_unknown_column_exits_non_zero_with_one_error(ran):
    proc = hw("impact", "stg_orders.no_such_column", cwd=ran.root, ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and "amount" in proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr


@pytest.mark.parametrize("args", [
    ("lineage", "show", "stg_orders", "--depth", "-1"),
    ("lineage", "show", "stg_orders", "--depth", "0"),
    ("serve", "--port", "99999"),
    ("serve", "--port", "0"),
    ("diagnose", "stg_orders", "--cost-per-hour", "-5"),
    ("diagnose", "stg_orders", "--cost-per-hour", "nan"),
], ids=["depth-negative", "depth-zero", "port-too-high", "port-zero", "cost-negative", "cost-nan"])
def test_out_of_range_options_are_usage_errors(mini, args):
    res = RUN.invoke(app, [*args, "--project", str(mini)])
    assert res.exit_code == 2 and args[-2] in res.output


def test_the_diagnose_text_leaves_out_what_is_not_known(mini):
    from headwater.platform import Platform

    platform = Platform(mini)
    assert platform.lineage.ingest_files([str(FIXTURES / "late_supplier.jsonl")]).rejected == []
    args = ["diagnose", "airflow://prod/supplier_report", "--project", str(mini)]
    text = RUN.invoke(app, args, env={"COLUMNS": "250"}).stdout
    assert "single_owner" in text and "person: mateo" in text
    assert "None" not in text  # not 'runbook: None'
    shown = RUN.invoke(app, [*args, "--json"]).stdout
    assert '"runbook": null' in shown  # the JSON keeps every key
