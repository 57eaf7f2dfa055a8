from .archs import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .real_basicvsr import RealBasicVSR  # noqa: F401
