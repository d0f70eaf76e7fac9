import pytest

from scripts.local_servers import DEFAULT_MODEL, running_assistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The real action server and Rasa server (REST channel), started once for these tests."""
    if not DEFAULT_MODEL.exists():
        pytest.skip("needs a trained model: make train")
    with running_assistant(work_dir=tmp_path_factory.mktemp("servers")) as running:
        yield running
