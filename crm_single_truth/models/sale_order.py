from odoo import api, models


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

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        confirmed = orders.filtered(lambda o: o.state == "sale")
        if confirmed:
            self.env["crm.partner.kpi"]._crm_touch(self._name, confirmed.ids, new=True)
        return orders

    def write(self, vals):
        if {"state", "date_order", "partner_id", "company_id"} & set(vals):
            confirmed = self.filtered(lambda o: o.state == "sale")
            Kpi = self.env["crm.partner.kpi"]
            Kpi._crm_touch(self._name, (self - confirmed).ids, new=True)  # nothing counted yet
            Kpi._crm_touch(self._name, confirmed.ids)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _crm_unlink_kpi_touch(self):
        self.env["crm.partner.kpi"]._crm_touch(self._name, self.ids)
