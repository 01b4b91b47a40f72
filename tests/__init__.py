from . import test_translations
from . import test_addon_readme
