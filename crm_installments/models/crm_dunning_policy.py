from odoo import api, models


class CrmDunningPolicy(models.Model):
    _inherit = "crm.dunning.policy"

    @api.model
    def _crm_dunning_models(self):
        """Installments are chased by the same engine as invoices."""
        return [*super()._crm_dunning_models(), "crm.installment.line"]
