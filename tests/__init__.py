from . import test_reliability_burst
from . import test_reliability_crash
from . import test_translations
from . import test_addon_readme
from . import test_dunning_messengers
