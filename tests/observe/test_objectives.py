from datetime import timedelta

from headwater.observe.objectives import objectives_for
from headwater.spec.loader import load_project
from tests.projects import MINI_FILES, mini_project


def test_tier_defaults_from_the_issue(mini):
    project = load_project(mini)
    cf = project.tiers["customer-facing"]
    assert (cf.freshness, cf.completeness, cf.availability) == (timedelta(minutes=15), 0.999, 0.999)
    ops = objectives_for(project, "stg_orders")
    assert (ops.tier, ops.freshness, ops.completeness, ops.availability, ops.window) == \
        ("ops", timedelta(minutes=60), 0.99, 0.999, timedelta(days=30))
    fin = objectives_for(project, "daily_revenue")
    assert (fin.freshness, fin.completeness, fin.availability) == (timedelta(hours=24), 0.99, 0.995)
    assert fin.overridden == ()
    assert fin.target("freshness") == 0.995 and fin.target("validity") == 0.99


def test_customer_facing_tier_and_product_overrides(tmp_path):
    text = MINI_FILES["products/sales.yaml"]
    indent = text[:text.index("tier: finance")].rsplit("\n", 1)[1]
    products = text.replace("tier: finance", "tier: customer-facing\n" + indent
                            + "slo: {freshness: 5m, availability: 0.95, window: 7d}")
    project = load_project(mini_project(tmp_path / "p", **{"products/sales.yaml": products}))
    obj = objectives_for(project, "daily_revenue")
    assert obj.tier == "customer-facing"
    assert obj.completeness == 0.999  # from the tier
    assert (obj.freshness, obj.availability, obj.window) == (timedelta(minutes=5), 0.95, timedelta(days=7))
    assert set(obj.overridden) == {"freshness", "availability", "window"}
    default = objectives_for(project, "stg_customers")
    assert default.freshness == timedelta(minutes=60)


def test_alerting_section_is_checked(tmp_path):
    import pytest

    from headwater.errors import SpecErrors

    root = mini_project(tmp_path / "p", **{"headwater.yaml": "name: mini\nalerting:\n  sinks:\n    - {kind: pager}\n"})
    with pytest.raises(SpecErrors, match="kind"):
        load_project(root)
    root = mini_project(tmp_path / "q", **{"headwater.yaml": "name: mini\nalerting: {incident_windw: 1h}\n"})
    with pytest.raises(SpecErrors, match="incident_windw"):
        load_project(root)
    ok = load_project(mini_project(tmp_path / "r", **{"headwater.yaml": "name: mini\nalerting: {incident_window: 2h}\n"}))
    assert ok.config.alerting.incident_window == timedelta(hours=2)
    assert load_project(mini_project(tmp_path / "s")).config.alerting.incident_window == timedelta(hours=6)
