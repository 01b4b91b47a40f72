from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date

from .access import MONEY_GROUPS, PLAN_GROUPS, check_groups


class CrmInstallmentPayment(models.Model):
    """Money received for a plan, and which lines it paid (its allocations). Cancelling it (or
    unreconciling the bank payment it came from) reopens the lines it paid.

    Money record: a user registers a manual payment (create) on a plan he may edit and never
    rewrites one; payments imported from accounting (``partial_id``) follow the reconciliation
    only. Everything else is written by the code."""

    _name = "crm.installment.payment"
    _description = "Installment Payment"
    _order = "date desc, id desc"

    plan_id = fields.Many2one("crm.installment.plan", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="plan_id.commercial_partner_id", string="Customer", store=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id", store=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    amount = fields.Monetary(required=True)
    state = fields.Selection(
        [("posted", "Posted"), ("cancelled", "Cancelled")],
        string="Status",
        required=True,
        default="posted",
        readonly=True,
    )
    partial_id = fields.Many2one(
        "account.partial.reconcile", string="Reconciliation", readonly=True, index="btree_not_null", ondelete="set null"
    )
    move_id = fields.Many2one(
        "account.move",
        string="Journal Entry",
        readonly=True,
        help="The payment entry reconciled with the plan's invoice.",
    )
    memo = fields.Char()
    allocation_ids = fields.One2many("crm.installment.allocation", "payment_id", string="Allocations", readonly=True)
    amount_allocated = fields.Monetary(compute="_compute_amount_allocated")

    @api.depends("allocation_ids.amount")
    def _compute_amount_allocated(self):
        for payment in self:
            payment.amount_allocated = sum(payment.allocation_ids.mapped("amount"))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            check_groups(self.env, PLAN_GROUPS)
            for vals in vals_list:
                imported = {"partial_id", "move_id", "state"} & {key for key, value in vals.items() if value}
                if imported:
                    raise AccessError(
                        _(
                            "Payments from accounting are imported by CrmAI: %(fields)s cannot be set.",
                            fields=", ".join(sorted(imported)),
                        )
                    )
            self.env["crm.installment.plan"].browse([vals.get("plan_id") for vals in vals_list]).check_access("write")
        payments = super().create(vals_list)
        for payment in payments:
            if payment.currency_id.compare_amounts(payment.amount, 0.0) <= 0:
                raise UserError(_("The payment amount must be positive."))
            if payment.plan_id.state not in ("active", "done"):
                raise UserError(_("Payments can only be registered on an active plan."))
        payments.plan_id._reallocate()
        for payment in payments:
            payment.plan_id.message_post(
                body=_(
                    "Payment of %(amount)s received on %(date)s.",
                    amount=payment._format_amount(),
                    date=payment._format_date(),
                )
            )
        return payments

    def _format_amount(self):
        return format_amount(self.env, self.amount, self.currency_id)

    def _format_date(self):
        return format_date(self.env, self.date)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(_("A payment is never rewritten: cancel it and register the right one."))
        res = super().write(vals)
        if {"amount", "date", "state"} & set(vals):
            self.plan_id._reallocate()
        return res

    def action_cancel(self):
        """The payment did not happen (returned, reversed): the lines it paid are open again.
        Managers and invoicing users cancel manual payments; an imported one is cancelled by
        removing its reconciliation in accounting."""
        check_groups(self.env, MONEY_GROUPS)
        self.check_access("read")
        if not self.env.su and self.filtered("partial_id"):
            raise UserError(
                _("This payment comes from accounting: remove its reconciliation with the invoice to cancel it.")
            )
        posted = self.filtered(lambda p: p.state == "posted")
        posted.sudo().write({"state": "cancelled"})
        for payment in posted:
            payment.plan_id.message_post(
                body=_(
                    "Payment of %(amount)s of %(date)s cancelled: the lines it paid are open again.",
                    amount=payment._format_amount(),
                    date=payment._format_date(),
                )
            )
        return True

    def action_register(self):
        """Button of the register dialog: the record is created by the dialog's save."""
        check_groups(self.env, PLAN_GROUPS)
        return {"type": "ir.actions.act_window_close"}

    @api.ondelete(at_uninstall=False)
    def _unlink_only_cancelled(self):
        if self.filtered(lambda p: p.state == "posted"):
            raise UserError(_("Cancel a payment instead of deleting it: the history is kept."))
