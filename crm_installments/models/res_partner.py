from odoo import fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "crm.installment.source.mixin"]

    crm_installment_plan_ids = fields.One2many(
        "crm.installment.plan", "commercial_partner_id", string="Installment Plans"
    )
    crm_installment_line_ids = fields.One2many(
        "crm.installment.line",
        "partner_id",
        string="Installments",
        domain=[("plan_state", "in", ("active", "done"))],
    )
    crm_installment_timeline = fields.Json(string="Installments Timeline", compute="_compute_crm_installment_timeline")
    crm_subscription_ids = fields.One2many("crm.subscription", "commercial_partner_id", string="Subscriptions")

    def _crm_installment_plan_field(self):
        return "commercial_partner_id"

    def _crm_installment_plan_key(self):
        return self.commercial_partner_id

    def _compute_crm_installment_timeline(self):
        lines = self.env["crm.installment.line"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("plan_state", "in", ("active", "done")),
            ]
        )
        for partner in self:
            partner.crm_installment_timeline = {
                "lines": lines.filtered(
                    lambda item, partner=partner: item.partner_id == partner.commercial_partner_id
                )._timeline_data(),
            }
