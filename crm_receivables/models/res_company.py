import pytz

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_bad_debt_account_id = fields.Many2one(
        "account.account",
        string="Bad Debt Account",
        check_company=True,
        help="Expense account debited when a customer's debt is written off as bad.",
    )

    def _crm_timezone(self):
        """The company's time zone: its address's, else the current user's, else the first of
        its country, else UTC."""
        self.ensure_one()
        country_zones = pytz.country_timezones.get(self.country_id.code or "", [])
        return self.partner_id.tz or self.env.user.tz or (country_zones[0] if country_zones else "UTC")

    def _crm_today(self, now=None):
        """Today in the company's time zone: a cron running at 02:00 in Almaty (20:00 UTC the day
        before) works on Almaty's date. ``now``: an aware or UTC-naive datetime (tests)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        if now.tzinfo is None:
            now = pytz.utc.localize(now)
        return now.astimezone(pytz.timezone(self._crm_timezone())).date()
