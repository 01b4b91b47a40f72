from odoo import _, fields, models

RECENT_PAYMENTS = 10


class ResPartner(models.Model):
    """Mutual settlements on the card: what the customer owes us minus what we owe them, the
    latest payments, and the reconciliation act."""

    _inherit = "res.partner"

    crm_settlement_balance = fields.Monetary(
        string="Settlement Balance",
        compute="_compute_crm_settlement_balance",
        currency_field="crm_currency_id",
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Receivable minus payable of posted entries: positive when the customer owes the company.",
    )
    crm_recent_payment_ids = fields.Many2many(
        "account.payment", string="Latest Payments", compute="_compute_crm_recent_payment_ids",
        groups="account.group_account_invoice,account.group_account_readonly",
    )

    def _compute_crm_settlement_balance(self):
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.crm_settlement_balance = commercial.credit - commercial.debit

    def _compute_crm_recent_payment_ids(self):
        Payment = self.env["account.payment"]
        for partner in self:
            partner.crm_recent_payment_ids = Payment.search(
                [("partner_id", "child_of", partner.commercial_partner_id.id), ("state", "not in", ("draft", "canceled", "rejected"))],
                order="date desc, id desc", limit=RECENT_PAYMENTS,
            ) if partner.id else Payment

    def action_crm_open_payments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_payments")
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id, "default_payment_type": "inbound", "default_partner_type": "customer"}
        action["view_mode"] = "list,graph,form"
        action["views"] = [(False, "list"), (self.env.ref("crm_single_truth.account_payment_view_graph_history").id, "graph"), (False, "form")]
        return action

    def action_crm_reconciliation_act(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reconciliation Act"),
            "res_model": "crm.reconciliation.act.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }
