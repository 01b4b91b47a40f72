import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class CrmExchangeAttempt(models.Model):
    """One attempt of an outgoing exchange, with the queue_job job that ran it."""

    _name = "crm.exchange.attempt"
    _description = "Exchange Attempt"
    _order = "log_id, number"

    log_id = fields.Many2one("crm.exchange.log", required=True, ondelete="cascade", index=True)
    number = fields.Integer(required=True)
    state = fields.Selection([("done", "Done"), ("failed", "Failed")], required=True)
    error_message = fields.Text()
    duration_ms = fields.Integer(string="Duration (ms)")
    job_uuid = fields.Char(string="Job UUID")
    job_id = fields.Many2one("queue.job", string="Job", ondelete="set null")

    @api.model
    def _create_detached(self, vals):
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SELECT 1 FROM crm_exchange_log WHERE id = %s", [vals["log_id"]])
                visible = bool(cr.fetchone())
                if visible and vals.get("job_id"):
                    cr.execute("SELECT 1 FROM queue_job WHERE id = %s", [vals["job_id"]])
                    visible = bool(cr.fetchone())
                if visible:
                    attempt = self.with_env(self.env(cr=cr, su=True)).create(dict(vals))
                    attempt.flush_recordset()
                    return self.browse(attempt.id)
        except Exception:  # noqa: BLE001 - the journal must not break the business
            _logger.exception("Exchange journal: could not write an attempt on a separate cursor")
        return self.sudo().create(vals)
