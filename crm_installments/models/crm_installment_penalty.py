from odoo import _, api, fields, models
from odoo.tools import format_amount, format_date, formatLang


class CrmInstallmentPenalty(models.Model):
    """Penalty (пени) accrued on a late installment or a late invoice for a run of days with the
    same overdue amount: amount = base × rate × days (capped by the contract)."""

    _name = "crm.installment.penalty"
    _description = "Late Payment Penalty"
    _order = "date_from desc, id desc"
    _rec_name = "computation"

    line_id = fields.Many2one(
        "crm.installment.line", string="Installment", index="btree_not_null", ondelete="cascade", readonly=True
    )
    plan_id = fields.Many2one("crm.installment.plan", index="btree_not_null", ondelete="cascade", readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Late Invoice", index="btree_not_null", ondelete="cascade", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", compute="_compute_partner", store=True, index=True)
    company_id = fields.Many2one("res.company", compute="_compute_partner", store=True, index=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_partner", store=True)
    date = fields.Date(required=True, readonly=True, help="Last day of the run.")
    date_from = fields.Date(string="From", required=True, readonly=True)
    base = fields.Monetary(string="Overdue Amount", readonly=True)
    rate = fields.Float(string="Rate (%/day)", digits=(16, 4), readonly=True)
    days = fields.Integer(readonly=True)
    amount = fields.Monetary(readonly=True)
    capped = fields.Boolean(readonly=True, help="The contract's cap cut this run short.")
    computation = fields.Char(readonly=True)
    invoice_line_id = fields.Many2one(
        "account.move.line",
        string="Invoiced On",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    is_invoiced = fields.Boolean(compute="_compute_is_invoiced", store=True)

    @api.depends("line_id.plan_id", "move_id")
    def _compute_partner(self):
        for penalty in self:
            source = penalty.line_id.plan_id or penalty.plan_id
            if source:
                penalty.partner_id = source.commercial_partner_id
                penalty.company_id = source.company_id
                penalty.currency_id = source.currency_id
            else:
                penalty.partner_id = penalty.move_id.commercial_partner_id
                penalty.company_id = penalty.move_id.company_id
                penalty.currency_id = penalty.move_id.currency_id

    @api.depends("invoice_line_id.parent_state")
    def _compute_is_invoiced(self):
        for penalty in self:
            penalty.is_invoiced = bool(penalty.invoice_line_id) and penalty.invoice_line_id.parent_state != "cancel"

    @api.model
    def _computation_text(self, segment, rate, currency, cap_percent):
        text = _(
            "%(base)s × %(rate)s%% × %(days)s d = %(amount)s",
            base=format_amount(self.env, segment["base"], currency),
            rate=formatLang(self.env, rate, digits=4).rstrip("0").rstrip(".,"),
            days=segment["days"],
            amount=format_amount(self.env, segment["amount"], currency),
        )
        if segment["capped"]:
            text = _(
                "%(text)s (capped at %(cap)s%% of the amount)",
                text=text,
                cap=formatLang(self.env, cap_percent, digits=2).rstrip("0").rstrip(".,"),
            )
        return text

    @api.model
    def _sync(self, existing, segments, link_vals, terms, currency, date_ref):
        """Make ``existing`` penalty records equal to ``segments``: unchanged runs are kept, changed
        or vanished ones are replaced. Invoiced runs are never touched: a difference with them is
        booked as one correction record (days = 0), kept as long as it stays right."""
        rate, _grace, cap_percent = terms
        invoiced = existing.filtered("is_invoiced")
        invoiced_from = set(invoiced.filtered("days").mapped("date_from"))
        free = existing - invoiced
        corrections = free.filtered(lambda r: not r.days)
        wanted = {segment["date_from"]: segment for segment in segments if segment["date_from"] not in invoiced_from}
        keep = self.browse()
        for record in free - corrections:
            segment = wanted.get(record.date_from)
            if (
                segment
                and record.date == segment["date_to"]
                and record.days == segment["days"]
                and not currency.compare_amounts(record.amount, segment["amount"])
                and not currency.compare_amounts(record.base, segment["base"])
            ):
                keep |= record
        correction = currency.round(
            sum(segment["amount"] for segment in segments if segment["date_from"] in invoiced_from)
            - sum(invoiced.mapped("amount"))
        )
        if len(corrections) == 1 and not currency.compare_amounts(corrections.amount, correction):
            keep |= corrections
        (free - keep).unlink()
        kept_from = set(keep.filtered("days").mapped("date_from"))
        to_create = [
            {
                **link_vals,
                "date_from": segment["date_from"],
                "date": segment["date_to"],
                "base": segment["base"],
                "rate": rate,
                "days": segment["days"],
                "amount": segment["amount"],
                "capped": segment["capped"],
                "computation": self._computation_text(segment, rate, currency, cap_percent),
            }
            for date_from, segment in wanted.items()
            if date_from not in kept_from
        ]
        if not currency.is_zero(correction) and not (keep & corrections):
            to_create.append(
                {
                    **link_vals,
                    "date_from": date_ref,
                    "date": date_ref,
                    "base": 0.0,
                    "rate": rate,
                    "days": 0,
                    "amount": correction,
                    "computation": _(
                        "Correction of invoiced penalties: %(amount)s",
                        amount=format_amount(self.env, correction, currency),
                    ),
                }
            )
        return self.create(to_create) if to_create else self.browse()

    def _period_label(self):
        self.ensure_one()
        return _(
            "%(from)s - %(to)s",
            **{"from": format_date(self.env, self.date_from), "to": format_date(self.env, self.date)},
        )
