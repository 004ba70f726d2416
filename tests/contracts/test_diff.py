"""contract diff: classification, the major-bump rule, affected products and consumers, CLI exit."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.contracts.diff import compare
from headwater.contracts.model import Contract
from headwater.platform import Platform
from tests.contracts.helpers import CONTRACT, set_contract

BASE = {"product": "o", "version": "1.0.0",
        "columns": [{"name": "id", "type": "long", "nullable": False},
                    {"name": "status", "type": "string", "checks": [{"accepted_values": ["a", "b"]}]},
                    {"name": "amount", "type": "int", "checks": [{"range": {"min": 0, "max": 10}}]}],
        "primary_key": ["id"]}


def _with(**changes):
    data = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is None:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return Contract.model_validate(data)


@pytest.mark.parametrize("changes,what,breaking", [
    ({"columns__2": None}, "column amount removed", True),
    ({"columns__1__nullable": False}, "column status nullable True -> False", False),
    ({"columns__0__nullable": True}, "column id nullable False -> True", True),
    ({"columns__2__type": "long"}, "column amount type int -> long", True),
    ({"columns__2__type": "double", "columns__2__checks": []}, "column amount type int -> double", True),
    ({"columns__1__checks": [{"accepted_values": ["a", "b", "c"]}]}, "rule status.accepted_values accepts new values ['c']", True),
    ({"columns__1__checks": [{"accepted_values": ["a"]}]}, "rule status.accepted_values no longer accepts ['b']", False),
    ({"columns__2__checks": [{"range": {"min": 0, "max": 5}}]}, "rule amount.range bounds [0, 10] -> [0, 5]", False),
    ({"columns__2__checks": [{"range": {"min": -1, "max": 10}}]}, "rule amount.range bounds [0, 10] -> [-1, 10]", True),
    ({"columns__2__checks": [{"range": {"min": 0, "max": 10}, "severity": "warn"}]},
     "rule amount.range severity quarantine -> warn", True),
    ({"columns__1__checks": []}, "rule status.accepted_values removed", True),
    ({"primary_key": ["id", "status"]}, "primary key (id) -> (id, status)", True),
    ({"columns__1__description": "the state"}, "column status description changed", False),
])
def test_classification(changes, what, breaking):
    found = {c.what: c for c in compare(Contract.model_validate(BASE), _with(**changes))}
    assert what in found, list(found)
    assert found[what].breaking is breaking


def test_added_column_and_rule_are_not_breaking():
    new = _with(columns=BASE["columns"] + [{"name": "note", "type": "string", "checks": [{"length": {"max": 5}}]}])
    changes = compare(Contract.model_validate(BASE), new)
    assert {(c.what, c.breaking) for c in changes} == {("column note added", False), ("rule note.length added", False)}


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _repo(root):
    _git(root, "init", "-q")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")


def test_diff_against_git_requires_a_major_bump_and_lists_who_is_affected(shop_root, clock):
    _repo(shop_root)
    set_contract(shop_root, CONTRACT.replace("  - {name: tags, type: list<string>}\n", ""))
    from headwater.contracts.diff import diff_project

    report = diff_project(Platform(shop_root, clock=clock), "HEAD")
    (item,) = report.contracts
    assert item.breaking and report.failed and "major version bump" in item.error
    assert {"kind": "product", "name": "order_totals", "owner": "finance-data"} in item.affected
    assert {"kind": "consumer", "name": "finance-dashboard", "owner": "finance-bi"} in item.affected
    runner = CliRunner()
    res = runner.invoke(app, ["contract", "diff", "--project", str(shop_root), "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["failed"] is True
    set_contract(shop_root, CONTRACT.replace("  - {name: tags, type: list<string>}\n", "")
                 .replace("version: 1.0.0", "version: 2.0.0"))
    res = runner.invoke(app, ["contract", "diff", "--project", str(shop_root), "--json"])
    assert res.exit_code == 0, res.stdout
    assert json.loads(res.stdout)["contracts"][0]["breaking"] is True


def test_diff_flags_a_removed_contract_a_version_going_down_and_a_change_without_a_bump(shop_root, clock):
    from headwater.contracts.diff import diff_project

    _repo(shop_root)
    set_contract(shop_root, CONTRACT.replace("version: 1.0.0", "version: 0.9.0"))
    (item,) = diff_project(Platform(shop_root, clock=clock), "HEAD").contracts
    assert item.changes == [] and "version went down" in item.error
    set_contract(shop_root, CONTRACT.replace("{name: order_id, type: long, nullable: false}",
                                             "{name: order_id, type: long, nullable: false, description: the id}"))
    (item,) = diff_project(Platform(shop_root, clock=clock), "HEAD").contracts
    assert not item.breaking and "without a version bump" in item.error
    (shop_root / "contracts/stg_orders.yaml").unlink()
    report = diff_project(Platform(shop_root, clock=clock), "HEAD")
    (item,) = report.contracts
    assert (item.product, item.new_version, item.breaking, report.failed) == ("stg_orders", None, True, True)
    assert "deprecated" in item.error and {"kind": "product", "name": "order_totals",
                                           "owner": "finance-data"} in item.affected


def test_diff_lists_consumers_of_downstream_products_too(shop_root, clock):
    from headwater.contracts.diff import diff_project

    products = shop_root / "products/sales.yaml"
    products.write_text(products.read_text().replace(
        "transform: {sql: sql/order_totals.sql}",
        "transform: {sql: sql/order_totals.sql}\n    consumers: [{name: cfo-report, owner: finance-bi}]"))
    _repo(shop_root)
    set_contract(shop_root, CONTRACT.replace("  - {name: tags, type: list<string>}\n", ""))
    (item,) = diff_project(Platform(shop_root, clock=clock), "HEAD").contracts
    assert {"kind": "consumer", "name": "cfo-report", "owner": "finance-bi", "via": "order_totals"} in item.affected


def test_diff_with_a_missing_ref_is_an_error(shop_root, clock):
    _repo(shop_root)
    from headwater.contracts.diff import diff_project
    from headwater.errors import HeadwaterError

    with pytest.raises(HeadwaterError, match="no-such-ref"):
        diff_project(Platform(shop_root, clock=clock), "no-such-ref")
