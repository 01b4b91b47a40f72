from . import crm_receivable_aging
