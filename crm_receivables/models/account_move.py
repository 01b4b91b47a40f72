from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_dunning_paused_until = fields.Date(
        string="Reminders Paused Until",
        copy=False,
        help="No reminder for this invoice until this date (promise to pay, deferral).",
    )
    crm_dunning_event_ids = fields.One2many("crm.dunning.event", "move_id", string="Reminders")
    crm_contract_id = fields.Many2one(
        "crm.contract",
        string="Contract",
        index="btree_not_null",
        check_company=True,
        domain="[('partner_id', '=', commercial_partner_id), ('state', 'in', ('active', 'expired'))]",
        help="The contract this invoice bills: its dunning policy wins over the customer's.",
    )

    crm_unusual_delay_date = fields.Date(
        string="Unusual Delay Flagged On",
        copy=False,
        readonly=True,
        help="Day the salesperson was warned that this invoice is later than the customer's habit.",
    )

    # B2B postpay: the customer agrees the invoice, returns the signed closing documents (act),
    # and may ask to pay later
    crm_postpay_state = fields.Selection(
        [("to_send", "Not Sent"), ("sent", "Sent"), ("agreed", "Agreed"), ("paid", "Paid")],
        string="Postpay Status",
        compute="_compute_crm_postpay_state",
        store=True,
        index=True,
        help="Sent to the customer, agreed by the customer, paid.",
    )
    crm_agreed_date = fields.Date(
        string="Agreed On", copy=False, tracking=True, help="Day the customer confirmed the invoice."
    )
    crm_act_received = fields.Boolean(
        string="Closing Documents Received",
        copy=False,
        tracking=True,
        help="The signed act (closing documents) came back from the customer.",
    )
    crm_act_date = fields.Date(string="Closing Documents Received On", copy=False)
    crm_deferral_date = fields.Date(
        string="Deferred To",
        copy=False,
        tracking=True,
        help="New expected payment date the customer asked for: no reminder until then, and reminder "
        "levels count from it afterwards.",
    )
    crm_deferral_reason = fields.Char(string="Deferral Reason", copy=False, tracking=True)

    crm_writeoff_id = fields.Many2one(
        "crm.bad.debt.writeoff", string="Written Off By", copy=False, readonly=True, index="btree_not_null"
    )

    @api.depends("state", "is_move_sent", "crm_agreed_date", "payment_state")
    def _compute_crm_postpay_state(self):
        for move in self:
            if move.payment_state in ("paid", "in_payment"):
                move.crm_postpay_state = "paid"
            elif move.crm_agreed_date:
                move.crm_postpay_state = "agreed"
            elif move.is_move_sent:
                move.crm_postpay_state = "sent"
            else:
                move.crm_postpay_state = "to_send"

    @api.constrains("crm_deferral_date", "crm_deferral_reason")
    def _check_crm_deferral(self):
        for move in self:
            if move.crm_deferral_date and not move.crm_deferral_reason:
                raise ValidationError(_("Say why the payment of %(name)s is deferred.", name=move.display_name))

    def action_crm_mark_agreed(self):
        self.filtered(lambda m: not m.crm_agreed_date).crm_agreed_date = fields.Date.context_today(self)
        return True

    def action_crm_mark_act_received(self):
        self.filtered(lambda m: not m.crm_act_received).write(
            {"crm_act_received": True, "crm_act_date": fields.Date.context_today(self)}
        )
        return True

    def action_crm_write_off(self):
        """A draft bad-debt write-off of these open invoices, for a manager to approve."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.payment_state in ("not_paid", "partial"))
        if not invoices or len(invoices.commercial_partner_id) > 1 or len(invoices.company_id) > 1:
            raise UserError(_("Choose open invoices of one customer and one company to write off."))
        return invoices.commercial_partner_id.with_company(invoices.company_id)._crm_writeoff_action(invoices)

    def _crm_dunning_due_date(self):
        """The date reminder levels count from: the due date, or the deferral date when later."""
        self.ensure_one()
        return max(filter(None, (self.invoice_date_due, self.crm_deferral_date)))

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
