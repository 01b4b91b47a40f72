from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

APPROVER_GROUP = "crm_single_truth.group_crm_manager"
REQUESTER_GROUPS = ("crm_single_truth.group_crm_user", "account.group_account_invoice")
# written only by the code (the transitions), never through write() or create() by a user
CODE_ONLY_FIELDS = {"state", "approved_by_id", "requested_by_id", "writeoff_move_id", "amount", "name"}
# frozen once approved
FROZEN_FIELDS = {"partner_id", "company_id", "move_ids", "account_id", "journal_id", "date", "reason"}


class CrmBadDebtWriteoff(models.Model):
    """A customer's debt written off as bad: requested, approved by a manager, then posted as a
    journal entry reconciled with the invoices, which leaves the live dashboard. The record stays
    in the customer's history."""

    _name = "crm.bad.debt.writeoff"
    _description = "Bad Debt Write-off"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="['|', ('is_company', '=', True), ('parent_id', '=', False)]",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'),"
        " ('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount = fields.Monetary(
        string="Amount Written Off",
        compute="_compute_amount",
        store=True,
        readonly=True,
        tracking=True,
        help="Open residual of the invoices in company currency; frozen when posted.",
    )
    reason = fields.Text(required=True)
    date = fields.Date(string="Accounting Date", required=True, default=fields.Date.context_today)
    account_id = fields.Many2one(
        "account.account",
        string="Write-off Account",
        check_company=True,
        default=lambda self: self.env.company.crm_bad_debt_account_id,
    )
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        default=lambda self: self.env["account.journal"].search(
            [("type", "=", "general"), *self.env["account.journal"]._check_company_domain(self.env.company)], limit=1
        ),
    )
    state = fields.Selection(
        [("draft", "Draft"), ("approved", "Approved"), ("posted", "Posted"), ("cancelled", "Cancelled")],
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        index=True,
    )
    requested_by_id = fields.Many2one(
        "res.users", string="Requested By", readonly=True, copy=False, default=lambda self: self.env.user
    )
    approved_by_id = fields.Many2one("res.users", string="Approved By", readonly=True, copy=False, tracking=True)
    writeoff_move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, copy=False)

    @api.depends("move_ids")
    def _compute_amount(self):
        for writeoff in self:
            if writeoff.state != "posted":
                writeoff.amount = sum(writeoff.move_ids.mapped("amount_residual_signed"))

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        self.move_ids = self.move_ids.filtered(lambda m: m.commercial_partner_id == self.partner_id)

    @api.constrains("partner_id", "move_ids", "company_id")
    def _check_move_ids(self):
        for writeoff in self.sudo():
            strangers = writeoff.move_ids.filtered(
                lambda m, w=writeoff: m.commercial_partner_id != w.partner_id.commercial_partner_id
                or m.company_id != w.company_id
                or m.move_type != "out_invoice"
            )
            if strangers:
                raise ValidationError(
                    _(
                        "Write-off %(name)s can only take customer invoices of %(partner)s in %(company)s, not "
                        "%(invoices)s.",
                        name=writeoff.name,
                        partner=writeoff.partner_id.display_name,
                        company=writeoff.company_id.name,
                        invoices=", ".join(strangers.mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_requester()
        for vals in vals_list:
            if not self.env.su:
                vals.pop("amount", None)
                vals.pop("requested_by_id", None)
                if vals.get("state", "draft") != "draft" or vals.get("approved_by_id") or vals.get("writeoff_move_id"):
                    raise AccessError(_("A write-off starts as a draft requested by you."))
                vals["requested_by_id"] = self.env.uid
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("crm.bad.debt.writeoff") or "/"
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if CODE_ONLY_FIELDS & set(vals):
                raise AccessError(_("The status of a write-off changes only through its buttons."))
            if FROZEN_FIELDS & set(vals) and self.filtered(lambda w: w.state != "draft"):
                raise UserError(_("An approved write-off cannot be changed: cancel it and reset it to draft first."))
        return super().write(vals)

    @api.model
    def _check_requester(self):
        if not self.env.su and not any(self.env.user.has_group(group) for group in REQUESTER_GROUPS):
            raise AccessError(_("Only salespeople and accountants can request a bad-debt write-off."))

    def _check_approver(self):
        if not self.env.su and not self.env.user.has_group(APPROVER_GROUP):
            raise AccessError(_("Only a CRM manager can approve or post a bad-debt write-off."))
        self.check_access("write")

    def action_approve(self):
        self._check_approver()
        for writeoff in self:
            if writeoff.state != "draft":
                raise UserError(_("Only a draft write-off can be approved (%(name)s).", name=writeoff.name))
            if not writeoff.move_ids:
                raise UserError(_("Choose the invoices to write off in %(name)s.", name=writeoff.name))
            if writeoff.requested_by_id == self.env.user:
                raise AccessError(
                    _("Write-off %(name)s must be approved by someone other than its requester.", name=writeoff.name)
                )
        self.sudo().write({"state": "approved", "approved_by_id": self.env.user.id})
        return True

    def action_post(self):
        self._check_approver()
        for writeoff in self:
            if writeoff.state != "approved":
                raise UserError(_("Write-off %(name)s must be approved by a manager first.", name=writeoff.name))
            if not writeoff.account_id or not writeoff.journal_id:
                raise UserError(
                    _(
                        "Set the bad-debt write-off account in Settings (or on %(name)s) and a miscellaneous journal.",
                        name=writeoff.name,
                    )
                )
            writeoff._post_writeoff_move()
        return True

    def action_cancel(self):
        self._check_requester()
        self.check_access("write")
        if self.filtered(lambda w: w.state == "posted"):
            raise UserError(_("A posted write-off is undone by reversing its journal entry."))
        if self.filtered(lambda w: w.state == "approved") and not (
            self.env.su or self.env.user.has_group(APPROVER_GROUP)
        ):
            raise AccessError(_("Only a CRM manager can cancel an approved write-off."))
        self.sudo().write({"state": "cancelled"})
        return True

    def action_draft(self):
        self._check_requester()
        self.check_access("write")
        self.filtered(lambda w: w.state == "cancelled").sudo().write({"state": "draft", "approved_by_id": False})
        return True

    def _prepare_writeoff_move_vals(self, open_lines):
        self.ensure_one()
        total = sum(open_lines.mapped("amount_residual"))
        lines = [
            fields.Command.create(
                {
                    "name": _("Bad debt: %(invoice)s", invoice=line.move_id.name),
                    "account_id": line.account_id.id,
                    "partner_id": line.partner_id.id,
                    "currency_id": line.currency_id.id,
                    "amount_currency": -line.amount_residual_currency,
                    "balance": -line.amount_residual,
                }
            )
            for line in open_lines
        ]
        lines.append(
            fields.Command.create(
                {
                    "name": _("Bad debt written off: %(reason)s", reason=self.reason),
                    "account_id": self.account_id.id,
                    "partner_id": self.partner_id.id,
                    "currency_id": self.currency_id.id,
                    "amount_currency": total,
                    "balance": total,
                }
            )
        )
        return {
            "move_type": "entry",
            "journal_id": self.journal_id.id,
            "company_id": self.company_id.id,
            "date": self.date,
            "ref": _("Bad-debt write-off %(name)s", name=self.name),
            "line_ids": lines,
        }

    def _post_writeoff_move(self):
        """Credit the open receivable items, debit the write-off account, reconcile them one by
        one: the invoices become paid and leave the aging. Runs as superuser after the manager's
        approval, since CRM managers need not be accountants."""
        self.ensure_one()
        open_lines = self.move_ids.line_ids.filtered(
            lambda aml: aml.account_id.account_type == "asset_receivable" and not aml.reconciled
        )
        if not open_lines:
            raise UserError(_("The invoices of %(name)s have nothing left to write off.", name=self.name))
        amount = sum(open_lines.mapped("amount_residual"))
        move = self.env["account.move"].sudo().create(self._prepare_writeoff_move_vals(open_lines.sudo()))
        move.action_post()
        counterparts = move.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        for line, counterpart in zip(open_lines.sudo(), counterparts, strict=False):
            (line | counterpart).reconcile()
        self.move_ids.sudo().crm_writeoff_id = self
        self.sudo().write({"state": "posted", "writeoff_move_id": move.id, "amount": amount})
        for invoice in self.move_ids:
            invoice.message_post(body=_("Written off as bad debt by %(name)s.", name=self.name))
