from . import test_aging
from . import test_dunning
