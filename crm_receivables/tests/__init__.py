from . import test_aging
from . import test_dunning
from . import test_dunning_concurrency
