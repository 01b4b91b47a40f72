from odoo import api, fields, models
from odoo.tools import SQL


class CrmTimelineEvent(models.Model):
    """Exchanges of the customer's documents in its timeline (kind ``exchange``)."""

    _inherit = "crm.timeline.event"

    kind = fields.Selection(selection_add=[("exchange", "Exchange")])

    @api.model
    def _get_timeline_sources(self):
        return {
            **super()._get_timeline_sources(),
            "crm_exchange_log": SQL("""
                SELECT l.id, l.partner_id, l.partner_id, l.create_date, 'exchange',
                       l.res_model, l.res_id, COALESCE(s.name->>'en_US', s.code) || ': ' || l.operation,
                       NULL::numeric, l.state, l.create_uid, l.company_id
                  FROM crm_exchange_log l
                  JOIN crm_exchange_system s ON s.id = l.system_id
                 WHERE l.partner_id IS NOT NULL
            """),
        }
