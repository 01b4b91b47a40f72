from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def _crm_mark_dirty(self):
        lines = self.debit_move_id | self.credit_move_id
        self.env["crm.partner.kpi"]._crm_mark_dirty(lines.partner_id)

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._crm_mark_dirty()
        return partials

    @api.ondelete(at_uninstall=False)
    def _crm_unlink_mark_dirty(self):
        # payment dates and delays change when a payment is unreconciled
        self._crm_mark_dirty()
