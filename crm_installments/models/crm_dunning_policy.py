from odoo import api, models


class CrmDunningPolicy(models.Model):
    _inherit = "crm.dunning.policy"

    @api.model
    def _top_level_due(self, move, today, defaults=None):
        """An invoice paid by installments is chased through its installments, not by its own due date."""
        if move._crm_has_plan():
            return self.env["crm.dunning.level"]
        return super()._top_level_due(move, today, defaults=defaults)
