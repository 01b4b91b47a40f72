from . import test_kpi
from . import test_anomaly
from . import test_legal
from . import test_contract
from . import test_security
from . import test_demo
from . import test_timeline
