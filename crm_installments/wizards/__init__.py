from . import crm_installment_restructure
from . import crm_installment_penalty_invoice
