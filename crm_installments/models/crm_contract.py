from odoo import fields, models


class CrmContract(models.Model):
    _name = "crm.contract"
    _inherit = ["crm.contract", "crm.installment.source.mixin"]

    installment_plan_ids = fields.One2many("crm.installment.plan", "contract_id", string="Installment Plans")
    subscription_ids = fields.One2many("crm.subscription", "contract_id", string="Subscriptions")

    def _crm_installment_plan_field(self):
        return "contract_id"

    def _prepare_crm_installment_plan_vals(self):
        return {
            "partner_id": self.partner_id.id,
            "contract_id": self.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "amount_total": self.amount or 0.0,
            "user_id": (self.user_id or self.env.user).id,
            "date_first": self._crm_installment_first_date(),
        }
