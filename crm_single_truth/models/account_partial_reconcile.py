from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model
    def _crm_kpi_touch_lines(self, line_ids):
        """The invoices of these journal items are paid or unpaid: their payment history changes."""
        moves = self.env["account.move.line"].browse(line_ids).move_id
        moves._crm_kpi_touch()

    @api.model_create_multi
    def create(self, vals_list):
        line_ids = {vals.get(key) for vals in vals_list for key in ("debit_move_id", "credit_move_id")} - {None, False}
        self._crm_kpi_touch_lines(sorted(line_ids))
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _crm_unlink_kpi_touch(self):
        # payment dates and delays change when a payment is unreconciled
        self._crm_kpi_touch_lines((self.debit_move_id | self.credit_move_id).ids)
