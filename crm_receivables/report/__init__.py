from . import crm_receivable_aging
from . import crm_payment_discipline
