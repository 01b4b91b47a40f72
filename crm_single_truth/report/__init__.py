from . import crm_timeline_event
from . import report_reconciliation_act
