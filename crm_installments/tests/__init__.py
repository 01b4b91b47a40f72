from . import test_allocation
from . import test_demo
from . import test_penalty
from . import test_reminders
from . import test_restructure
from . import test_schedule
from . import test_security
from . import test_subscription
