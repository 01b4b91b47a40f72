from odoo import api, models


class CrmDunningPolicy(models.Model):
    _inherit = "crm.dunning.policy"

    @api.model
    def _top_level_due(self, move, today, defaults=None):
        """An invoice paid by installments is chased through its installments, not by its own due date."""
        if defaults is None:
            covered = move._crm_has_plan()
        else:
            # one query per run, not two searches per invoice
            if "crm_installments_planned" not in defaults:
                defaults["crm_installments_planned"] = self.env["account.move"]._crm_planned_invoice_ids()
            covered = move.id in defaults["crm_installments_planned"]
        if covered:
            return self.env["crm.dunning.level"]
        return super()._top_level_due(move, today, defaults=defaults)
