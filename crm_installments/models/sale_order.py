from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    crm_installment_plan_ids = fields.One2many("crm.installment.plan", "sale_order_id", string="Installment Plans")
    crm_installment_plan_count = fields.Integer(compute="_compute_crm_installment_plan_count")

    @api.depends("crm_installment_plan_ids")
    def _compute_crm_installment_plan_count(self):
        for order in self:
            order.crm_installment_plan_count = len(order.crm_installment_plan_ids)

    def action_crm_create_installment_plan(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_new_plan(self)

    def action_crm_open_installment_plans(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_plans(
            [("sale_order_id", "=", self.id)], {"default_sale_order_id": self.id}
        )
