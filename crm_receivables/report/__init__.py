from . import crm_receivable_aging
from . import crm_payment_discipline
from . import crm_timeline_event
