from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    crm_exchange_count = fields.Integer(string="Exchanges", compute="_compute_crm_exchange_count")
    crm_external_ref = fields.Char(string="External Order", copy=False, readonly=True, index="btree_not_null")

    def _compute_crm_exchange_count(self):
        counts = self.env["crm.exchange.log"]._count_for_documents(self)
        for order in self:
            order.crm_exchange_count = counts.get(order.id, 0)

    def action_crm_open_exchanges(self):
        return self.env["crm.exchange.log"]._action_for_documents(self)
