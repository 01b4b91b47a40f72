from datetime import timedelta

from odoo import _, api, fields, models

from .access import PLAN_GROUPS, check_groups


class CrmInstallmentSourceMixin(models.AbstractModel):
    """A document that installment plans are made for (a sale order, an invoice, a contract) or
    grouped by (a customer): the plan count of its smart button, the list of its plans and a new
    plan filled from it. Each document says which plan field points to it and what a new plan
    takes from it."""

    _name = "crm.installment.source.mixin"
    _description = "Document with Installment Plans"

    crm_installment_plan_count = fields.Integer(
        string="Installment Plan Count", compute="_compute_crm_installment_plan_count"
    )

    def _crm_installment_plan_field(self):
        """Name of the ``crm.installment.plan`` field that points to this kind of document."""
        raise NotImplementedError

    def _crm_installment_plan_key(self):
        """The record the plans point to (the commercial entity for a customer)."""
        return self

    def _prepare_crm_installment_plan_vals(self):
        """Values of a new plan for this document (the defaults of the plan form)."""
        return {}

    def _compute_crm_installment_plan_count(self):
        field = self._crm_installment_plan_field()
        keys = {record: record._crm_installment_plan_key() for record in self}
        counts = {}
        if any(key.id for key in keys.values()):
            counts = {
                key.id: count
                for key, count in self.env["crm.installment.plan"]._read_group(
                    [(field, "in", [key.id for key in keys.values() if key.id])], [field], ["__count"]
                )
            }
        for record in self:
            record.crm_installment_plan_count = counts.get(keys[record].id, 0)

    @api.model
    def _crm_installment_first_date(self):
        return fields.Date.context_today(self) + timedelta(days=30)

    def action_crm_open_installment_plans(self):
        """The plans of the document; a new one from there is linked to it."""
        self.ensure_one()
        check_groups(self.env, PLAN_GROUPS)
        field = self._crm_installment_plan_field()
        key = self._crm_installment_plan_key()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_installments.crm_installment_plan_action")
        action["domain"] = [(field, "=", key.id)]
        partner = self._prepare_crm_installment_plan_vals().get("partner_id")
        if field == "commercial_partner_id":
            action["context"] = {"default_partner_id": key.id}
        else:
            action["context"] = {f"default_{field}": key.id, **({"default_partner_id": partner} if partner else {})}
        return action

    def action_crm_create_installment_plan(self):
        """A new draft plan filled from the document."""
        self.ensure_one()
        check_groups(self.env, PLAN_GROUPS)
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("New Installment Plan"),
            "res_model": "crm.installment.plan",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {f"default_{name}": value for name, value in self._prepare_crm_installment_plan_vals().items()},
        }
