from tests.test_apis.conftest import tiny_checkpoint, tiny_config  # noqa: F401
from tests.test_models.test_archs.conftest import reds4_converted  # noqa: F401
