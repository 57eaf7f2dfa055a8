from tests.test_models.test_archs.conftest import demo_frames  # noqa: F401
