from . import crm_exchange_report
