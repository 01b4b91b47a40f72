from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_installment_plan_ids = fields.One2many(
        "crm.installment.plan", "commercial_partner_id", string="Installment Plans"
    )
    crm_installment_line_ids = fields.One2many(
        "crm.installment.line",
        "partner_id",
        string="Installments",
        domain=[("plan_state", "in", ("active", "done"))],
    )
    crm_installment_plan_count = fields.Integer(compute="_compute_crm_installment_plan_count")
    crm_installment_timeline = fields.Json(string="Installments Timeline", compute="_compute_crm_installment_timeline")
    crm_subscription_ids = fields.One2many("crm.subscription", "commercial_partner_id", string="Subscriptions")

    @api.depends("crm_installment_plan_ids")
    def _compute_crm_installment_plan_count(self):
        counts = (
            dict(
                self.env["crm.installment.plan"]._read_group(
                    [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                    ["commercial_partner_id"],
                    ["__count"],
                )
            )
            if self.ids
            else {}
        )
        for partner in self:
            partner.crm_installment_plan_count = counts.get(partner.commercial_partner_id, 0)

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

    def action_crm_open_installment_plans(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_plans(
            [("commercial_partner_id", "=", self.commercial_partner_id.id)],
            {"default_partner_id": self.commercial_partner_id.id},
        )
