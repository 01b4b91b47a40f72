from odoo import fields, models

from ..tools.dates import company_timezone, local_date


class ResCompany(models.Model):
    _inherit = "res.company"

    def _crm_timezone(self):
        """The company's time zone: its address's, else the current user's, else the first of
        its country, else UTC."""
        self.ensure_one()
        return company_timezone(self.partner_id.tz, self.env.user.tz, self.country_id.code)

    def _crm_today(self, now=None):
        """Today in the company's time zone: a cron running at 02:00 in Almaty (20:00 UTC the day
        before) works on Almaty's date. ``now``: a UTC-naive datetime (tests)."""
        self.ensure_one()
        return local_date(now or fields.Datetime.now(), self._crm_timezone())
