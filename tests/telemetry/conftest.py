import pytest

from telemetry.dictionary import Dictionary


@pytest.fixture(scope="session")
def hk_dict():
    return Dictionary.bundled()
