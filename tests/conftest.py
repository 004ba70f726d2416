pytest_plugins = ["tests.services"]


import pytest


@pytest.fixture
def mini(tmp_path):
    """A three-product project (two staging models and a daily revenue fact) with data."""
    from tests.projects import mini_project

    return mini_project(tmp_path / "mini")
