from . import test_aging
from . import test_dunning
from . import test_dunning_concurrency
from . import test_discipline
from . import test_postpay
from . import test_writeoff
from . import test_dashboard
