import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression

from .crm_exchange_job_mixin import JOB_GROUPS

_logger = logging.getLogger(__name__)


class CrmExchangeAttempt(models.Model):
    """One attempt of an outgoing exchange, with the queue_job job that ran it. Whoever may read
    the exchange may read its attempts (same company, same document rights)."""

    _name = "crm.exchange.attempt"
    _description = "Exchange Attempt"
    _order = "log_id, number"

    log_id = fields.Many2one("crm.exchange.log", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="log_id.company_id", store=True, index=True)
    number = fields.Integer(required=True)
    state = fields.Selection([("done", "Done"), ("failed", "Failed")], required=True)
    error_message = fields.Text()
    duration_ms = fields.Integer(string="Duration (ms)")
    job_uuid = fields.Char(string="Job UUID")
    job_id = fields.Many2one("queue.job", string="Job", ondelete="set null", groups=JOB_GROUPS)

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        Log = self.env["crm.exchange.log"]
        if not Log._document_access_bypass():
            domain = expression.AND([domain, [("log_id", "in", Log._search([]))]])
        return super()._search(domain, offset=offset, limit=limit, order=order)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        Log = self.env["crm.exchange.log"]
        if not self or Log._document_access_bypass():
            return result
        attempts = self - result[0] if result else self
        if operation != "read":
            forbidden = attempts
        else:
            log_of = {attempt.id: attempt.log_id.id for attempt in attempts.sudo()}
            readable = set(Log.browse(set(log_of.values()))._filtered_access("read").ids)
            forbidden = attempts.filtered(lambda attempt: log_of[attempt.id] not in readable)
        if not forbidden:
            return result
        denied = (result[0] | forbidden) if result else forbidden

        def make_error():
            return AccessError(_("You cannot see exchanges of documents you cannot read."))

        return denied, make_error

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
