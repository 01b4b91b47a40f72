from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_dunning_paused_until = fields.Date(string="Reminders Paused Until", copy=False,
                                           help="No reminder for this invoice until this date (promise to pay, deferral).")
    crm_dunning_event_ids = fields.One2many("crm.dunning.event", "move_id", string="Reminders")
    crm_contract_id = fields.Many2one(
        "crm.contract", string="Contract", index="btree_not_null", check_company=True,
        domain="[('partner_id', '=', commercial_partner_id), ('state', 'in', ('active', 'expired'))]",
        help="The contract this invoice bills: its dunning policy wins over the customer's.",
    )

    @api.onchange("partner_id")
    def _onchange_partner_id_crm_contract(self):
        if self.crm_contract_id and self.crm_contract_id.partner_id != self.commercial_partner_id:
            self.crm_contract_id = False

    def _crm_dunning_policy(self, defaults=None):
        """The dunning policy of this invoice: its contract's, else its customer's (in the invoice's
        company), else its company's default. ``defaults`` caches the default per company."""
        self.ensure_one()
        defaults = {} if defaults is None else defaults
        policy = self.crm_contract_id.crm_dunning_policy_id or (
            self.commercial_partner_id.with_company(self.company_id).crm_dunning_policy_id
        )
        if policy:
            return policy
        if self.company_id not in defaults:
            defaults[self.company_id] = self.env["crm.dunning.policy"]._default_policy(self.company_id)
        return defaults[self.company_id]

    def action_crm_send_reminder_now(self):
        """Run the dunning of these invoices now (what is due today, once)."""
        Policy = self.env["crm.dunning.policy"]
        today = fields.Date.context_today(self)
        pairs = []
        for move in self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted"):
            top = Policy._top_level_due(move, today)
            if top and top not in move.crm_dunning_event_ids.level_id:
                pairs.append((move, top))
        Policy._claim_and_act(pairs, today)
        return True
