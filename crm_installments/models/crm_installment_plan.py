from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_amount, format_date

from ..tools import MAX_INSTALLMENTS, allocate, due_dates, split_amount
from .access import MONEY_GROUPS, PLAN_GROUPS, check_groups

BATCH = 500
PENALTY_BATCH = 2000
INTERVALS = [("week", "Weekly"), ("month", "Monthly"), ("quarter", "Quarterly")]
# written by the code only (actions, allocation, penalty accrual), never through RPC
CODE_FIELDS = {
    "state",
    "amount_paid",
    "amount_residual",
    "amount_overdue",
    "amount_unallocated",
    "penalty_total",
    "date_next_due",
}


class CrmInstallmentPlan(models.Model):
    """A schedule of payments of a sale order, an invoice or a contract: an optional down
    payment and equal installments. Payments are allocated to the oldest line first."""

    _name = "crm.installment.plan"
    _description = "Installment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_first desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, copy=False, readonly=True, default=lambda self: _("New"))
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one("res.currency", required=True, default=lambda self: self.env.company.currency_id)
    contract_id = fields.Many2one(
        "crm.contract",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        domain="[('partner_id', '=', commercial_partner_id)]",
        help="Its penalty terms apply to the late lines.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True, string="Commercial Entity"
    )
    sale_order_id = fields.Many2one("sale.order", index="btree_not_null", check_company=True, copy=False)
    invoice_id = fields.Many2one(
        "account.move",
        string="Invoice",
        index="btree_not_null",
        check_company=True,
        copy=False,
        domain="[('move_type', '=', 'out_invoice')]",
        help="Payments reconciled with this invoice are allocated to the plan.",
    )
    amount_total = fields.Monetary(string="Total", required=True, tracking=True)
    down_payment = fields.Monetary(tracking=True)
    date_down_payment = fields.Date(
        string="Down Payment Date", help="Due date of the down payment; empty: the first due date."
    )
    installment_count = fields.Integer(string="Installments", required=True, default=3)
    interval = fields.Selection(INTERVALS, required=True, default="month")
    date_first = fields.Date(string="First Due Date", required=True, default=fields.Date.context_today)
    line_ids = fields.One2many("crm.installment.line", "plan_id", string="Schedule", copy=True)
    payment_ids = fields.One2many("crm.installment.payment", "plan_id", string="Payments")
    penalty_ids = fields.One2many("crm.installment.penalty", "plan_id", string="Penalties")
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("done", "Paid"), ("cancelled", "Cancelled")],
        string="Status",
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        index=True,
        readonly=True,
    )
    amount_paid = fields.Monetary(compute="_compute_amounts", store=True)
    amount_residual = fields.Monetary(string="Amount Due", compute="_compute_amounts", store=True)
    amount_overdue = fields.Monetary(string="Overdue", compute="_compute_amounts", store=True)
    amount_unallocated = fields.Monetary(
        string="Overpaid",
        compute="_compute_amounts",
        store=True,
        help="Payments beyond the last line: to refund or to set against a new plan.",
    )
    penalty_total = fields.Monetary(string="Total Penalties", compute="_compute_penalty_total", store=True)
    date_next_due = fields.Date(string="Next Due Date", compute="_compute_amounts", store=True)
    note = fields.Html()
    timeline_data = fields.Json(string="Timeline", compute="_compute_timeline_data")

    _sql_constraints = [
        ("count_positive", "CHECK(installment_count > 0)", "A plan has at least one installment."),
    ]

    # ------------------------------------------------------------------ computes
    @api.depends(
        "line_ids.amount",
        "line_ids.amount_paid",
        "line_ids.state",
        "line_ids.date_due",
        "payment_ids.amount",
        "payment_ids.state",
    )
    def _compute_amounts(self):
        for plan in self:
            lines = plan.line_ids
            paid = sum(lines.mapped("amount_paid"))
            plan.amount_paid = paid
            plan.amount_residual = plan.currency_id.round(sum(lines.mapped("amount")) - paid)
            plan.amount_overdue = sum(lines.filtered(lambda item: item.state == "overdue").mapped("amount_residual"))
            received = sum(plan.payment_ids.filtered(lambda p: p.state == "posted").mapped("amount"))
            plan.amount_unallocated = max(plan.currency_id.round(received - paid), 0.0)
            open_lines = lines.filtered(lambda item: item.state != "paid").sorted("date_due")
            plan.date_next_due = open_lines[:1].date_due

    @api.depends("line_ids.state", "line_ids.amount", "line_ids.amount_paid", "line_ids.date_due")
    def _compute_timeline_data(self):
        for plan in self:
            plan.timeline_data = {"lines": plan.line_ids._timeline_data()}

    @api.depends("penalty_ids.amount")
    def _compute_penalty_total(self):
        for plan in self:
            plan.penalty_total = sum(plan.penalty_ids.mapped("amount"))

    # ------------------------------------------------------------------ constraints
    @api.constrains("line_ids", "amount_total", "state")
    def _check_lines_total(self):
        for plan in self:
            if not plan.line_ids:
                if plan.state == "active":
                    raise ValidationError(_("Plan %(name)s has no schedule: compute it first.", name=plan.name))
                continue
            lines_total = sum(plan.line_ids.mapped("amount"))
            if plan.currency_id.compare_amounts(lines_total, plan.amount_total):
                raise ValidationError(
                    _(
                        "The lines of plan %(name)s add up to %(lines)s, not to the plan total %(total)s.",
                        name=plan.name,
                        lines=format_amount(self.env, lines_total, plan.currency_id),
                        total=format_amount(self.env, plan.amount_total, plan.currency_id),
                    )
                )

    @api.constrains("installment_count")
    def _check_installment_count(self):
        for plan in self:
            if plan.installment_count > MAX_INSTALLMENTS:
                raise ValidationError(
                    _(
                        "Plan %(name)s has %(count)s installments: at most %(max)s are allowed.",
                        name=plan.name,
                        count=plan.installment_count,
                        max=MAX_INSTALLMENTS,
                    )
                )

    @api.constrains("amount_total", "down_payment")
    def _check_amounts(self):
        for plan in self:
            if plan.currency_id.compare_amounts(plan.amount_total, 0.0) <= 0:
                raise ValidationError(_("The total of plan %(name)s must be positive.", name=plan.name))
            if plan.down_payment < 0 or plan.currency_id.compare_amounts(plan.down_payment, plan.amount_total) >= 0:
                raise ValidationError(
                    _("The down payment of plan %(name)s must be between zero and the total.", name=plan.name)
                )

    # ------------------------------------------------------------------ CRUD
    def _check_code_fields(self, vals):
        """State and amounts are the code's: a user changes them through the actions."""
        forbidden = CODE_FIELDS & set(vals)
        if forbidden and not self.env.su:
            raise AccessError(
                _(
                    "Installment plan fields %(fields)s are set by CrmAI and cannot be written.",
                    fields=", ".join(sorted(forbidden)),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_code_fields(vals)
            if not vals.get("name") or vals["name"] == _("New"):
                vals["name"] = self.env["ir.sequence"].sudo().next_by_code("crm.installment.plan") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        self._check_code_fields(vals)
        res = super().write(vals)
        if "line_ids" in vals:
            # lines edited on an active plan: the payments are allocated to the new schedule
            self.filtered(lambda p: p.state in ("active", "done"))._reallocate()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda p: p.state not in ("draft", "cancelled")):
            raise UserError(_("Only draft or cancelled plans can be deleted."))

    # ------------------------------------------------------------------ schedule
    def _prepare_line_vals(self):
        """Lines of the schedule: the down payment, then equal installments; the last line takes the
        rounding remainder (currency precision)."""
        self.ensure_one()
        currency = self.currency_id
        vals = []
        rest = self.amount_total
        if currency.compare_amounts(self.down_payment, 0.0) > 0:
            vals.append(
                {
                    "sequence": 0,
                    "date_due": self.date_down_payment or self.date_first,
                    "amount": currency.round(self.down_payment),
                    "is_down_payment": True,
                }
            )
            rest = currency.round(self.amount_total - self.down_payment)
        dates = due_dates(self.date_first, self.interval, self.installment_count)
        for index, (date_due, amount) in enumerate(
            zip(dates, self._split(rest, self.installment_count), strict=False), start=1
        ):
            vals.append({"sequence": index, "date_due": date_due, "amount": amount})
        return vals

    def _split(self, amount, count):
        """``amount`` in ``count`` installments of the plan's currency (:func:`split_amount`), or a
        clear error when the count is out of bounds or the amount too small to be split."""
        self.ensure_one()
        if not 0 < count <= MAX_INSTALLMENTS:
            raise ValidationError(
                _("A plan has between 1 and %(max)s installments, not %(count)s.", max=MAX_INSTALLMENTS, count=count)
            )
        currency = self.currency_id
        try:
            return split_amount(amount, count, currency.round, currency.rounding)
        except ValueError:
            raise ValidationError(
                _(
                    "%(amount)s cannot be split into %(count)s installments: each would be less than %(unit)s.",
                    amount=format_amount(self.env, amount, currency),
                    count=count,
                    unit=format_amount(self.env, currency.rounding, currency),
                )
            ) from None

    def _check_plan_access(self):
        """Salespeople and invoicing users, on plans they may edit."""
        check_groups(self.env, PLAN_GROUPS)
        self.check_access("write")

    def action_compute_schedule(self):
        self._check_plan_access()
        for plan in self:
            if plan.state != "draft":
                raise UserError(_("Only the schedule of a draft plan can be computed; restructure an active one."))
            plan.write({"line_ids": [Command.clear()] + [Command.create(vals) for vals in plan._prepare_line_vals()]})
        return True

    def action_confirm(self):
        self._check_plan_access()
        for plan in self:
            if plan.state != "draft":
                raise UserError(_("Only draft plans can be confirmed."))
            if not plan.line_ids:
                plan.action_compute_schedule()
        self.sudo().write({"state": "active"})
        for plan in self:
            plan._import_invoice_payments()
        self._reallocate()
        return True

    def action_cancel(self):
        self._check_plan_access()
        self.sudo().write({"state": "cancelled"})
        return True

    def action_draft(self):
        self._check_plan_access()
        if self.filtered(lambda p: p.state != "cancelled" or p.payment_ids.filtered(lambda pay: pay.state == "posted")):
            raise UserError(_("Only cancelled plans without payments can be reset to draft."))
        self.sudo().write({"state": "draft"})
        return True

    # ------------------------------------------------------------------ payments
    @api.returns("crm.installment.payment", lambda payment: payment.id)
    def register_payment(self, amount, date=None, memo=None):
        """Record a payment of ``amount`` on ``date`` and allocate it to the oldest unpaid lines
        first (partially if it does not cover a line; an overpayment flows to the next lines)."""
        self.ensure_one()
        self._check_plan_access()
        if self.state not in ("active", "done"):
            raise UserError(_("Payments can only be registered on an active plan."))
        if self.currency_id.compare_amounts(amount, 0.0) <= 0:
            raise UserError(_("The payment amount must be positive."))
        return self.env["crm.installment.payment"].create(
            {
                "plan_id": self.id,
                "amount": amount,
                "date": fields.Date.to_date(date) or fields.Date.context_today(self),
                "memo": memo,
            }
        )

    def _reallocate(self):
        """Allocate every posted payment of the plans again, in date order, to the oldest lines
        first. The allocation is a function of the payments and the lines: a back-dated or a
        cancelled payment gives the allocation it would have had."""
        Allocation = self.env["crm.installment.allocation"].sudo()
        if self.ids:
            # one allocation at a time per plan: concurrent payments wait for each other
            self.env.cr.execute(SQL("SELECT id FROM crm_installment_plan WHERE id IN %s FOR UPDATE", tuple(self.ids)))
        for plan in self:
            old = {(a.payment_id.id, a.line_id.id): a.amount for a in plan.payment_ids.allocation_ids}
            lines = plan.line_ids.sorted(lambda inst: inst._allocation_key())
            residuals = {line.id: line.amount for line in lines}
            new = {}
            payments = plan.payment_ids.filtered(lambda p: p.state == "posted").sorted(lambda p: (p.date, p.id))
            for payment in payments:
                open_lines = [line for line in lines if plan.currency_id.compare_amounts(residuals[line.id], 0.0) > 0]
                given, _left = allocate(
                    payment.amount, [residuals[line.id] for line in open_lines], plan.currency_id.round
                )
                for line, part in zip(open_lines, given, strict=False):
                    if plan.currency_id.compare_amounts(part, 0.0) > 0:
                        new[(payment.id, line.id)] = part
                        residuals[line.id] = plan.currency_id.round(residuals[line.id] - part)
            if new == old:
                continue
            plan.sudo().payment_ids.allocation_ids.unlink()
            Allocation.create(
                [
                    {"payment_id": payment_id, "line_id": line_id, "amount": amount}
                    for (payment_id, line_id), amount in new.items()
                ]
            )
            touched = self.env["crm.installment.line"].browse(
                {key[1] for key in set(old) ^ set(new)}
                | {key[1] for key in set(old) & set(new) if old[key] != new[key]}
            )
            touched._sync_penalties()
        self.line_ids._refresh_state()
        self._update_done_state()

    def _update_done_state(self):
        for plan in self:
            all_paid = plan.line_ids and all(line.state == "paid" for line in plan.line_ids)
            if plan.state == "active" and all_paid:
                plan.sudo().state = "done"
                plan.message_post(body=_("The plan is paid in full."))
            elif plan.state == "done" and not all_paid:
                plan.sudo().state = "active"
                plan.message_post(body=_("The plan is open again: a payment was cancelled."))

    def _import_invoice_payments(self):
        """Payments already reconciled with the invoice (or the sale order's invoices) when the
        plan starts."""
        self.ensure_one()
        invoices = self.invoice_id or self.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        )
        receivables = invoices.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        partials = receivables.matched_credit_ids
        self.env["account.partial.reconcile"].browse(partials.ids)._crm_installment_allocate()

    # ------------------------------------------------------------------ penalties
    @api.model
    def _cron_accrue_penalties(self, date_ref=None, batch_size=PENALTY_BATCH):
        """Bring the penalties of the late lines (and of the late invoices of contracts without a
        plan) up to ``date_ref`` (default: each company's own date). The penalties are a function
        of the payment history and of ``date_ref``: a rerun changes nothing, a cron late by days
        catches up exactly, a run killed mid-way is rolled back whole and redone by the next call
        (what a committed batch did is marked by ``penalty_date_ref`` and skipped)."""
        dates = self.env["res.company"]._crm_installments_dates(date_ref)
        self.env["crm.installment.line"]._refresh_overdue(dates)
        lines = self.env["crm.installment.line"]._penalty_candidates(dates, batch_size)
        moves = self.env["account.move"]._crm_penalty_candidates(dates, batch_size)
        self.env["crm.installment.penalty"].sudo()._sync_sources(lines, moves, date_ref=dates)
        # the scheduler only needs to know whether some are left (it logs how many): counted up
        # to one more batch, not over all the late lines of the day
        remaining, most = 0, batch_size
        if len(lines) >= batch_size or len(moves) >= batch_size:
            remaining = self.env["crm.installment.line"]._penalty_candidates(dates, most, count=True)
            remaining += self.env["account.move"]._crm_penalty_candidates(dates, most, count=True)
        self.env["ir.cron"]._notify_progress(done=len(lines) + len(moves), remaining=remaining)
        return lines, moves

    # ------------------------------------------------------------------ reminders
    @api.model
    def _cron_send_reminders(self, date_ref=None, batch_size=BATCH, **kwargs):
        """Remind the customers of their installments: the dunning engine of crm_receivables
        restricted to installments (it chases them with the invoices too)."""
        return self.env["crm.dunning.policy"]._cron_run_dunning(
            date_ref=date_ref, batch_size=batch_size, document_models=["crm.installment.line"]
        )

    # ------------------------------------------------------------------ actions
    def action_restructure(self):
        self.ensure_one()
        self._check_plan_access()
        if self.state != "active":
            raise UserError(_("Only an active plan can be restructured."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Restructure %(name)s", name=self.name),
            "res_model": "crm.installment.restructure",
            "view_mode": "form",
            "target": "new",
            "context": {"default_plan_id": self.id},
        }

    def action_register_payment(self):
        self.ensure_one()
        self._check_plan_access()
        return {
            "type": "ir.actions.act_window",
            "name": _("Register a Payment"),
            "res_model": "crm.installment.payment",
            "view_mode": "form",
            "views": [(self.env.ref("crm_installments.crm_installment_payment_view_form_register").id, "form")],
            "target": "new",
            "context": {"default_plan_id": self.id, "default_amount": self.amount_residual},
        }

    def action_invoice_penalties(self):
        check_groups(self.env, MONEY_GROUPS)
        self.check_access("read")
        return self._action_invoice_penalties(self[:1].commercial_partner_id)

    def _schedule_summary(self):
        self.ensure_one()
        return Markup("<ul>%s</ul>") % Markup().join(
            Markup("<li>%s: %s%s</li>")
            % (
                format_date(self.env, line.date_due),
                format_amount(self.env, line.amount, self.currency_id),
                _(" (paid)") if line.state == "paid" else "",
            )
            for line in self.line_ids.sorted(lambda inst: (inst.date_due, inst.sequence, inst.id))
        )

    @api.model
    def _action_invoice_penalties(self, partner):
        """The wizard that bills the penalties of ``partner``."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Invoice Penalties"),
            "res_model": "crm.installment.penalty.invoice",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": partner.id},
        }
