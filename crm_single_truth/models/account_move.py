from odoo import api, models

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.anomaly.mixin"]

    def _post(self, soft=True):
        # an invoice of a sale order was judged when the order was confirmed
        candidates = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "draft" and not m.line_ids.sale_line_ids
        )
        warnings = {
            move.id: self._crm_anomaly_check(
                move.partner_id,
                abs(move.amount_total_signed),
                move.company_id,
                move.invoice_user_id or move.partner_id.user_id,
            )
            for move in candidates
        }
        posted = super()._post(soft=soft)
        for move in posted.filtered(lambda m: warnings.get(m.id)):
            move._crm_anomaly_flag(warnings[move.id], move.invoice_user_id or move.partner_id.user_id)
        return posted

    def write(self, vals):
        tracked = {"state", "partner_id", "invoice_date", "invoice_date_due", "company_id"} & set(vals)
        customer_moves = self.filtered(lambda m: m.move_type in CUSTOMER_MOVE_TYPES) if tracked else self.browse()
        before = customer_moves.partner_id
        res = super().write(vals)
        if customer_moves:
            self.env["crm.partner.kpi"]._crm_mark_dirty(before | customer_moves.partner_id)
        return res

    @api.ondelete(at_uninstall=False)
    def _crm_unlink_mark_dirty(self):
        self.env["crm.partner.kpi"]._crm_mark_dirty(
            self.filtered(lambda m: m.move_type in CUSTOMER_MOVE_TYPES).partner_id
        )
