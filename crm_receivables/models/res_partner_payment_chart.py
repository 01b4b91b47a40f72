from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

CHART_MONTHS = 12


class ResPartner(models.Model):
    """Payment history on the card: paid invoices per month of payment, on time and late, for the
    last twelve months - one grouped query per card."""

    _inherit = "res.partner"

    crm_payment_chart = fields.Json(string="Payments by Month", compute="_compute_crm_payment_chart")

    @api.depends_context("company")
    def _compute_crm_payment_chart(self):
        today = fields.Date.context_today(self)
        first_month = today.replace(day=1) - relativedelta(months=CHART_MONTHS - 1)
        months = [first_month + relativedelta(months=index) for index in range(CHART_MONTHS)]
        groups = self.env["crm.payment.discipline"]._read_group(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
                ("date_paid", ">=", first_month),
            ],
            ["partner_id", "date_paid:month", "is_on_time"],
            ["amount:sum"],
        )
        totals = {}
        for partner, month, on_time, amount in groups:
            entry = totals.setdefault((partner.id, month), {"on_time": 0.0, "late": 0.0})
            entry["on_time" if on_time else "late"] += amount
        currency = self.env.company.currency_id
        lang = self.env["res.lang"]._lang_get(self.env.lang or "en_US")
        for partner in self:
            bars = []
            for month in months:
                entry = totals.get((partner.commercial_partner_id.id, month), {"on_time": 0.0, "late": 0.0})
                bars.append({
                    "month": fields.Date.to_string(month),
                    "label": month.strftime("%m.%Y"),
                    "on_time": currency.round(entry["on_time"]),
                    "late": currency.round(entry["late"]),
                    "on_time_text": lang.format("%.2f", entry["on_time"], grouping=True),
                    "late_text": lang.format("%.2f", entry["late"], grouping=True),
                })
            partner.crm_payment_chart = {"currency": currency.symbol, "bars": bars}
