import pytest


@pytest.fixture
def platform(mini):
    from headwater.platform import Platform

    return Platform(mini)


@pytest.fixture
def client(platform):
    from fastapi.testclient import TestClient

    from headwater.server.app import create_app

    with TestClient(create_app(platform)) as c:
        yield c
