from odoo import fields, models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.installment.source.mixin"]

    crm_installment_plan_ids = fields.One2many("crm.installment.plan", "sale_order_id", string="Installment Plans")

    def _crm_installment_plan_field(self):
        return "sale_order_id"

    def _prepare_crm_installment_plan_vals(self):
        return {
            "partner_id": self.partner_invoice_id.id or self.partner_id.id,
            "sale_order_id": self.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "amount_total": self.amount_total,
            "user_id": (self.user_id or self.env.user).id,
            "date_first": self._crm_installment_first_date(),
        }
