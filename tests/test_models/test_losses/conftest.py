import pytest


@pytest.fixture(scope='session')
def mmagic_losses():
    """MMagic's loss classes (imports all of ``mmagic.models``: slow, done once)."""
    from mmagic.models import losses
    return losses
