from . import test_reliability_burst
from . import test_reliability_crash
from . import test_translations
