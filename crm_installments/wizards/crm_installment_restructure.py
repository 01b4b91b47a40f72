from markupsafe import Markup

from odoo import Command, _, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..tools import MAX_INSTALLMENTS, due_dates


class CrmInstallmentRestructure(models.TransientModel):
    """Re-plan what is left to pay of a plan: the paid lines and the payment history stay, the
    unpaid balance is spread over new lines."""

    _name = "crm.installment.restructure"
    _description = "Restructure an Installment Plan"

    plan_id = fields.Many2one("crm.installment.plan", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount_residual = fields.Monetary(related="plan_id.amount_residual", string="Balance to Re-plan")
    installment_count = fields.Integer(string="Installments", required=True, default=3)
    interval = fields.Selection(
        [("week", "Weekly"), ("month", "Monthly"), ("quarter", "Quarterly")], required=True, default="month"
    )
    date_first = fields.Date(string="First Due Date", required=True, default=fields.Date.context_today)
    reason = fields.Char()

    def action_apply(self):
        self.ensure_one()
        plan = self.plan_id
        plan._check_plan_access()
        if plan.state != "active":
            raise UserError(_("Only an active plan can be restructured."))
        if not 0 < self.installment_count <= MAX_INSTALLMENTS:
            raise UserError(
                _(
                    "A plan has between 1 and %(max)s installments, not %(count)s.",
                    max=MAX_INSTALLMENTS,
                    count=self.installment_count,
                )
            )
        currency = plan.currency_id
        balance = plan.amount_residual
        if currency.compare_amounts(balance, 0.0) <= 0:
            raise UserError(_("Plan %(name)s has nothing left to pay.", name=plan.name))
        before = plan._schedule_summary()
        commands = []
        for line in plan.line_ids.filtered(lambda inst: currency.compare_amounts(inst.amount_residual, 0.0) > 0):
            if currency.is_zero(line.amount_paid) and not line.penalty_ids:
                commands.append(Command.delete(line.id))
            else:
                # keeps what was paid on it and its penalty history, closed from now on
                commands.append(Command.update(line.id, {"amount": line.amount_paid, "restructured": True}))
        last_sequence = max(plan.line_ids.mapped("sequence"), default=0)
        generation = max(plan.line_ids.mapped("generation"), default=0) + 1
        dates = due_dates(self.date_first, self.interval, self.installment_count)
        amounts = plan._split(balance, self.installment_count)
        commands += [
            Command.create(
                {"sequence": last_sequence + index, "date_due": day, "amount": amount, "generation": generation}
            )
            for index, (day, amount) in enumerate(zip(dates, amounts, strict=False), start=1)
        ]
        # the closed lines' amounts and generations are the code's: written with the rights it
        # needs once the user's own rights on the plan are checked; the payments are
        # re-allocated to the new schedule by the write
        plan.sudo().write(
            {
                "line_ids": commands,
                "installment_count": self.installment_count,
                "interval": self.interval,
            }
        )
        plan.message_post(
            body=Markup("%s%s<br/>%s%s%s")
            % (
                _(
                    "Restructured: %(amount)s re-planned in %(count)s installments.",
                    amount=format_amount(self.env, balance, currency),
                    count=self.installment_count,
                ),
                Markup("<br/>%s") % _("Reason: %(reason)s", reason=self.reason) if self.reason else "",
                _("Before:"),
                before,
                Markup("%s%s") % (_("After:"), plan._schedule_summary()),
            )
        )
        return {"type": "ir.actions.act_window_close"}
