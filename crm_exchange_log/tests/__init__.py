from . import test_alerts
from . import test_demo
from . import test_onec
from . import test_journal
from . import test_retry
from . import test_security
from . import test_website
from . import test_tours
