"""Bad input to the cost commands is a clear error that says what to give instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import HeadwaterError
from tests.core.test_cli import hw
from tests.cost.conftest import build
from tests.projects import MINI_FILES

RUN = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return build(tmp_path_factory.mktemp("cost-input") / "mini", runs=1).root


def _error(project, *args: str) -> HeadwaterError:
    res = RUN.invoke(app, [*args, "--project", str(project)])
    assert res.exit_code == 1 and isinstance(res.exception, HeadwaterError), res.output
    return res.exception


@pytest.mark.parametrize("args, says", [
    (("cost", "--period", "99999999d"), "longer than 36500d"),
    (("cost", "--period", "0d"), "not a positive duration"),
    (("cost", "waste", "--unread", "0d"), "--unread '0d' is not a positive duration"),
    (("cost", "--month", "2026-11", "--period", "7d"), "--month or --period, not both"),
    (("cost", "trend", "--by", "nope"), "cannot group cost by 'nope'"),
    (("cost", "trend", "--bucket", "1s", "--period", "1d"), "86,400 buckets"),
    (("cost", "trend", "--period", "0d"), "not a positive duration"),
], ids=["huge-period", "zero-period", "zero-unread", "month-and-period", "trend-by", "too-many-buckets",
        "zero-trend-period"])
def test_bad_values_are_errors_that_name_the_fix(project, args, says):
    err = _error(project, *args)
    assert says in err.message and err.fix


def test_the_bucket_cap_suggests_a_bucket_that_fits(project):
    err = _error(project, "cost", "trend", "--bucket", "1s", "--period", "1d")
    assert "--bucket 1h" in err.fix


def test_top_must_be_positive(project):
    for top in ("-1", "0"):
        res = RUN.invoke(app, ["cost", "trend", "--top", top, "--project", str(project)])
        assert res.exit_code == 2 and "--top" in res.output


def test_a_month_alone_and_the_default_period_still_work(project):
    assert RUN.invoke(app, ["cost", "--month", "2026-03", "--json", "--project", str(project)]).exit_code == 0
    assert RUN.invoke(app, ["cost", "--json", "--project", str(project)]).exit_code == 0


def test_the_service_refuses_an_empty_unread_window_instead_of_using_the_default(project):
    from headwater.platform import Platform

    with pytest.raises(HeadwaterError, match="must be positive"):
        Platform(project).cost.waste(timedelta(0))


def test_overflowing_period_through_the_real_entry_point_is_one_clean_error(project):
    proc = hw("cost", "--period", "99999999d", "--project", str(project), ok=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and "unexpected" not in proc.stderr


def test_retention_keep_reads_as_a_duration(tmp_path):
    yearly = MINI_FILES["products/sales.yaml"].replace(
        "            primary_key: [order_id]\n",
        "            primary_key: [order_id]\n            retention: {snapshots: 365d, min_snapshots: 2}\n")
    platform = build(tmp_path / "mini", runs=1, **{"products/sales.yaml": yearly})
    (plan,) = platform.cost.retention_plan(["stg_orders"]).products
    assert plan.keep_for == "365d"
    shown = RUN.invoke(app, ["retention", "plan", "--project", str(platform.root)], env={"COLUMNS": "250"}).stdout
    assert "365d" in shown and "days," not in shown
