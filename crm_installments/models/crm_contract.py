from odoo import api, fields, models


class CrmContract(models.Model):
    _inherit = "crm.contract"

    installment_plan_ids = fields.One2many("crm.installment.plan", "contract_id", string="Installment Plans")
    installment_plan_count = fields.Integer(compute="_compute_installment_plan_count")
    subscription_ids = fields.One2many("crm.subscription", "contract_id", string="Subscriptions")

    @api.depends("installment_plan_ids")
    def _compute_installment_plan_count(self):
        for contract in self:
            contract.installment_plan_count = len(contract.installment_plan_ids)

    def action_create_installment_plan(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_new_plan(self)

    def action_open_installment_plans(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_plans(
            [("contract_id", "=", self.id)], {"default_contract_id": self.id, "default_partner_id": self.partner_id.id}
        )
