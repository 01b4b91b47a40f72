from . import crm_reconciliation_act_wizard
from . import crm_messenger_reply_wizard
