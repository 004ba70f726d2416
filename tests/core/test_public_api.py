"""The public API is small and deliberate: changing it must be a conscious act."""

import headwater


def test_exported_members():
    assert headwater.__all__ == [
        "__version__", "Clock", "FrozenClock", "HeadwaterError", "NotFoundError", "Platform", "Project",
        "RunResult", "SpecError", "SpecErrors", "load_project",
    ]
    for name in headwater.__all__:
        assert getattr(headwater, name) is not None


def test_every_error_derives_from_one_root():
    from headwater import errors

    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == errors.__name__:
            assert issubclass(obj, errors.HeadwaterError)
