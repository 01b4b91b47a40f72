import logging

from odoo import _, models
from odoo.tools import SQL

from odoo.addons.crm_single_truth.services.messenger_api import MessengerError

_logger = logging.getLogger(__name__)


class CrmMessengerMessage(models.Model):
    """Messages to customers go out as journaled exchanges run by queue_job on the messenger's
    channel. A rate limit, a server error or a configuration problem (a refused token or template)
    is retried with the system's backoff - an administrator may fix the settings meanwhile; a
    refusal about the customer (WhatsApp's 24-hour window, a bot blocked by the user) is final for
    the message at once: the messenger did answer, so the exchange itself is done."""

    _inherit = "crm.messenger.message"

    def _crm_exchange_handlers(self):
        return frozenset({"_crm_exchange_send"})

    def _crm_dispatch(self):
        Log = self.env["crm.exchange.log"].sudo()
        System = self.env["crm.exchange.system"]
        inline = self.browse()
        for message in self.filtered(lambda m: m.state == "queued"):
            system = System._get_by_code(message.channel, message.company_id)
            if not system:
                inline |= message
                continue
            Log._enqueue(
                system,
                f"send_{message.channel}",
                message.sudo(),
                "_crm_exchange_send",
                request={
                    "chat": message.chat_id.display_name,
                    "to": message.chat_id.address,
                    "text": message.body,
                    "documents": message.attachment_ids.mapped("name"),
                },
                idempotency_key=f"{message.channel}:out:{message.id}",
            )
        return super(CrmMessengerMessage, inline)._crm_dispatch()

    def _crm_exchange_send(self, log):
        """Handler of the sending exchange (one attempt). What the message records of a failure
        that queue_job will retry is written on a cursor of its own: the job's transaction is
        rolled back when it fails."""
        self.ensure_one()
        try:
            return self._crm_deliver()
        except MessengerError as error:
            if self._crm_refused_for_customer(error):
                self._crm_record_failure(error)
                return {"refused": error.code, "detail": error.detail}
            job = log._current_job()
            attempt = log.attempt_count + 1
            if job:
                final = bool(job.max_retries) and job.retry + 1 >= job.max_retries
            else:
                final = attempt >= log.system_id.max_attempts
            vals = self._crm_failure_vals(error) if final else {"error_message": self._crm_explain_retry(error)}
            self._crm_write_detached(vals, notify=final)
            error.crm_exchange_clear = True
            raise

    def _crm_explain_retry(self, error):
        return _(
            "Not sent yet (%(problem)s): it is tried again automatically.",
            problem=error.detail if error.retryable else self._crm_explain(error),
        )

    def _crm_write_detached(self, vals, notify=False):
        """Write (and tell the author of a failure) on a cursor of its own, committed at once, when
        the message is committed; in the current transaction otherwise (then it lives and dies
        with it)."""
        self.ensure_one()
        done = False
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("SELECT id FROM crm_messenger_message WHERE id = %s FOR UPDATE SKIP LOCKED", self.id))
                if cr.fetchone():
                    detached = self.with_env(self.env(cr=cr, su=True))
                    detached.write(dict(vals))
                    if notify:
                        detached._crm_notify_failure()
                    detached.env.flush_all()
                    done = True
        except Exception:  # noqa: BLE001 - the message is then updated in the current transaction
            _logger.exception("Messenger: could not record a delivery problem on a separate cursor")
        if done:
            self.invalidate_recordset(list(vals))
            return
        self.sudo().write(vals)
        if notify:
            self._crm_notify_failure()
