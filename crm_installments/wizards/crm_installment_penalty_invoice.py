from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..models.access import MONEY_GROUPS, check_groups


class CrmInstallmentPenaltyInvoice(models.TransientModel):
    """Invoice the penalties of a customer accrued in a period (not invoiced yet): one customer
    invoice with the penalty product, one line per late installment or invoice, in the currency
    of the plans and contracts the penalties were accrued in (one currency per invoice)."""

    _name = "crm.installment.penalty.invoice"
    _description = "Invoice Late Payment Penalties"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        help="Penalties accrued in this currency (the plan's or the invoice's) are billed; "
        "those in another currency go on an invoice of their own.",
    )
    penalty_ids = fields.Many2many("crm.installment.penalty", compute="_compute_penalty_ids")
    amount_total = fields.Monetary(compute="_compute_penalty_ids", string="Total")

    @api.depends("partner_id", "company_id")
    def _compute_currency_id(self):
        """The currency of the customer's uninvoiced penalties (the oldest first), else the company's."""
        for wizard in self:
            penalty = self.env["crm.installment.penalty"].search(
                [
                    ("partner_id", "=", wizard.partner_id.commercial_partner_id.id),
                    ("company_id", "=", wizard.company_id.id),
                    ("is_invoiced", "=", False),
                ],
                order="date_from, id",
                limit=1,
            )
            wizard.currency_id = penalty.currency_id or wizard.company_id.currency_id

    @api.depends("partner_id", "company_id", "currency_id", "date_from", "date_to")
    def _compute_penalty_ids(self):
        for wizard in self:
            wizard.penalty_ids = self.env["crm.installment.penalty"].search(wizard._get_penalty_domain())
            wizard.amount_total = sum(wizard.penalty_ids.mapped("amount"))

    def _get_penalty_domain(self):
        return [
            ("partner_id", "=", self.partner_id.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("currency_id", "=", self.currency_id.id),
            ("date", ">=", self.date_from),
            ("date", "<=", self.date_to),
            ("is_invoiced", "=", False),
        ]

    @api.model
    def _group(self, penalties):
        groups = {}
        for penalty in penalties.sorted(lambda p: (p.date_from, p.id)):
            groups.setdefault(penalty.line_id or penalty.move_id, self.env["crm.installment.penalty"])
            groups[penalty.line_id or penalty.move_id] |= penalty
        return groups

    def _prepare_invoice_vals(self, penalties):
        product = self.env.ref("crm_installments.product_penalty")
        groups = self._group(penalties)
        lines = []
        for source, group in groups.items():
            if source._name == "crm.installment.line":
                label = _(
                    "Penalty on installment of %(plan)s due %(date)s", plan=source.plan_id.name, date=source.date_due
                )
            else:
                label = _("Penalty on invoice %(name)s", name=source.name)
            details = "\n".join(p.computation for p in group)
            lines.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "name": f"{label}\n{details}",
                        "quantity": 1,
                        "price_unit": sum(p.amount for p in group),
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        return {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": self.date_to,
            "invoice_line_ids": lines,
        }

    def action_create_invoice(self):
        self.ensure_one()
        check_groups(self.env, MONEY_GROUPS)
        penalties = self.penalty_ids.filtered(lambda p: not p.currency_id.is_zero(p.amount))
        if not penalties:
            raise UserError(
                _("No penalty to invoice for %(partner)s in this period.", partner=self.partner_id.display_name)
            )
        move = self.env["account.move"].with_company(self.company_id).create(self._prepare_invoice_vals(penalties))
        for invoice_line, group in zip(
            move.invoice_line_ids.sorted("sequence"), self._group(penalties).values(), strict=False
        ):
            # penalties are money records of the code: linked with the rights it needs
            group.sudo().invoice_line_id = invoice_line
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
