from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.anomaly.mixin"]

    def action_confirm(self):
        # judge each order against the history before it
        warnings = {}
        for order in self:
            amount = order.currency_id._convert(
                order.amount_total, order.company_id.currency_id, order.company_id, order.date_order
            )
            warnings[order.id] = self._crm_anomaly_check(
                order.partner_id, amount, order.company_id, order.user_id or order.partner_id.user_id
            )
        res = super().action_confirm()
        for order in self.filtered(lambda o: warnings.get(o.id)):
            order._crm_anomaly_flag(warnings[order.id], order.user_id or order.partner_id.user_id)
        return res

    def write(self, vals):
        tracked = {"state", "date_order", "partner_id", "company_id"} & set(vals)
        before = self.partner_id if tracked else self.env["res.partner"]
        res = super().write(vals)
        if tracked:
            self.env["crm.partner.kpi"]._crm_mark_dirty(before | self.partner_id)
        return res
