from tests.test_apis.conftest import tiny_checkpoint, tiny_config  # noqa: F401
