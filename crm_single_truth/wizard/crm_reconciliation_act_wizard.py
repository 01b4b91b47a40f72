from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

# the accounts of the stock "Partner Ledger": trade receivables and payables
LEDGER_ACCOUNT_DOMAIN = [
    ("account_id.account_type", "in", ("asset_receivable", "liability_payable")),
    ("account_id.non_trade", "=", False),
]
DOCUMENT_KINDS = {
    "out_invoice": "invoice",
    "out_refund": "credit_note",
    "in_invoice": "bill",
    "in_refund": "refund",
}


class CrmReconciliationActWizard(models.TransientModel):
    """«Акт сверки взаимных расчётов»: the mutual settlements with a customer over a period -
    opening balance, every invoice, payment and credit note, closing balance - as the stock
    Partner Ledger has them (trade receivable and payable items of posted entries)."""

    _name = "crm.reconciliation.act.wizard"
    _description = "Reconciliation Act"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: fields.Date.context_today(self) + relativedelta(month=1, day=1),
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    lang = fields.Selection(
        [("ru_RU", "Russian"), ("kk_KZ", "Kazakh"), ("en_US", "English")],
        string="Language",
        required=True,
        default=lambda self: self._default_lang(),
    )

    @api.model
    def _default_lang(self):
        lang = self.env.context.get("lang") or "ru_RU"
        return lang if lang in ("ru_RU", "kk_KZ", "en_US") else "ru_RU"

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(_("The period of the reconciliation act ends before it starts."))

    def action_print(self):
        self.ensure_one()
        if not self.env["res.lang"]._lang_get(self.lang):
            raise UserError(_("Activate the language %(lang)s in Settings to print the act in it.", lang=self.lang))
        data = {
            "partner_id": self.partner_id.commercial_partner_id.id,
            "company_id": self.company_id.id,
            "date_from": fields.Date.to_string(self.date_from),
            "date_to": fields.Date.to_string(self.date_to),
            "lang": self.lang,
        }
        return self.env.ref("crm_single_truth.action_report_reconciliation_act").report_action(
            self.partner_id.commercial_partner_id, data=data
        )

    @api.model
    def _crm_act_data(self, partner, company, date_from, date_to):
        """The figures of the act, in the company currency: ``opening``, ``lines`` (one per
        journal entry: date, name, ref, kind, debit, credit), ``debit``, ``credit``, ``closing``.
        Debit is what the customer owes more (invoices), credit what reduces it (payments, credit
        notes); a positive balance is owed to the company."""
        partner = partner.commercial_partner_id
        Line = self.env["account.move.line"]
        base_domain = [
            ("parent_state", "=", "posted"),
            ("company_id", "=", company.id),
            ("partner_id", "child_of", partner.id),
            *LEDGER_ACCOUNT_DOMAIN,
        ]
        [[opening]] = Line._read_group(base_domain + [("date", "<", date_from)], [], ["balance:sum"])
        groups = Line._read_group(
            base_domain + [("date", ">=", date_from), ("date", "<=", date_to)],
            ["date:day", "move_id"],
            ["debit:sum", "credit:sum"],
        )
        currency = company.currency_id
        lines = []
        for date, move, debit, credit in sorted(groups, key=lambda group: (group[0], group[1].name or "", group[1].id)):
            debit_net, credit_net = max(debit - credit, 0.0), max(credit - debit, 0.0)
            if currency.is_zero(debit_net) and currency.is_zero(credit_net):
                continue
            kind = DOCUMENT_KINDS.get(move.move_type) or (
                "payment" if move.origin_payment_id or move.statement_line_id else "other"
            )
            lines.append(
                {
                    "date": date,
                    "move": move,
                    "name": move.name,
                    "ref": move.ref or "",
                    "kind": kind,
                    "debit": currency.round(debit_net),
                    "credit": currency.round(credit_net),
                }
            )
        opening = currency.round(opening or 0.0)
        total_debit = currency.round(sum(line["debit"] for line in lines))
        total_credit = currency.round(sum(line["credit"] for line in lines))
        return {
            "partner": partner,
            "company": company,
            "currency": currency,
            "date_from": date_from,
            "date_to": date_to,
            "opening": opening,
            "lines": lines,
            "debit": total_debit,
            "credit": total_credit,
            "closing": currency.round(opening + total_debit - total_credit),
        }
