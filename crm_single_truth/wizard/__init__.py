from . import crm_reconciliation_act_wizard
