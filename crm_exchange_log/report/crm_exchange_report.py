from odoo import fields, models
from odoo.tools import SQL


class CrmExchangeReport(models.Model):
    """Exchanges per system and day: volume, failures, failure rate, average duration."""

    _name = "crm.exchange.report"
    _description = "Exchange Statistics"
    _auto = False
    _order = "date desc, system_id"

    system_id = fields.Many2one("crm.exchange.system", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    direction = fields.Selection([("in", "Incoming"), ("out", "Outgoing")], readonly=True)
    date = fields.Date(readonly=True)
    exchange_count = fields.Integer(string="Exchanges", readonly=True)
    failed_count = fields.Integer(string="Failures", readonly=True)
    done_count = fields.Integer(string="Successes", readonly=True)
    failure_rate = fields.Float(string="Failure Rate (%)", readonly=True, aggregator="avg", digits=(16, 1))
    duration_ms = fields.Float(string="Average Duration (ms)", readonly=True, aggregator="avg", digits=(16, 0))
    last_error = fields.Text(readonly=True, groups="crm_exchange_log.group_exchange_integrator")

    @property
    def _table_query(self):
        return SQL("""
            SELECT MIN(l.id) AS id, l.system_id, l.company_id, l.direction, l.create_date::date AS date,
                   COUNT(*) AS exchange_count,
                   COUNT(*) FILTER (WHERE l.state = 'failed') AS failed_count,
                   COUNT(*) FILTER (WHERE l.state = 'done') AS done_count,
                   100.0 * COUNT(*) FILTER (WHERE l.state = 'failed') / COUNT(*) AS failure_rate,
                   AVG(l.duration_ms) AS duration_ms,
                   (ARRAY_AGG(l.error_message ORDER BY l.create_date DESC, l.id DESC)
                        FILTER (WHERE l.error_message IS NOT NULL))[1] AS last_error
              FROM crm_exchange_log l
             GROUP BY l.system_id, l.company_id, l.direction, l.create_date::date
        """)
