from . import crm_receivable_aging
from . import crm_timeline_event
from . import crm_subscription_report
