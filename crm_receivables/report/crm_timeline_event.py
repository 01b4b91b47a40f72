from odoo import api, models
from odoo.tools import SQL


class CrmTimelineEvent(models.Model):
    """Bad debts written off stay in the customer's history: on the timeline, with the invoices."""

    _inherit = "crm.timeline.event"

    @api.model
    def _get_timeline_sources(self):
        return {
            **super()._get_timeline_sources(),
            "crm_bad_debt_writeoff": SQL("""
                SELECT w.id, w.partner_id, w.partner_id, w.date::timestamp, 'invoice',
                       'crm.bad.debt.writeoff', w.id, w.name, -w.amount, w.state,
                       w.approved_by_id, w.company_id
                  FROM crm_bad_debt_writeoff w
                 WHERE w.state = 'posted'
            """),
        }
