from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def scenario(tmp_path):
    """Ingest one scenario's OpenLineage events into a fresh project; returns the platform."""
    from headwater.platform import Platform
    from tests.projects import mini_project

    def load(name: str):
        platform = Platform(mini_project(tmp_path / name))
        result = platform.lineage.ingest_files([str(FIXTURES / f"{name}.jsonl")])
        assert result.rejected == [] and result.stored > 0
        return platform

    return load
