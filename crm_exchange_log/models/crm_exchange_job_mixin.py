import time
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError

JOB_GROUPS = "queue_job.group_queue_job_manager"


class CrmExchangeJobMixin(models.AbstractModel):
    """Outgoing exchanges of the journal (``crm.exchange.log``) run as queue_job jobs, one channel
    per system. queue_job owns the retries: the job's ``max_retries`` bounds the attempts, each
    failure raises ``RetryableJobError`` with the system's backoff, and queue_job turns the last
    one into a failed job. The journal only records what happened (attempts, state, next retry).
    Only handlers declared by the document model (``_crm_exchange_handlers``) are ever called."""

    _name = "crm.exchange.job.mixin"
    _description = "Exchange Jobs"

    handler = fields.Char(
        readonly=True,
        help="Method of the document that performs the outgoing exchange: one of the exchange "
        "handlers its model declares.",
    )
    job_id = fields.Many2one("queue.job", string="Job", ondelete="set null", copy=False, groups=JOB_GROUPS)
    job_uuid = fields.Char(string="Job UUID", index="btree_not_null", copy=False, readonly=True)

    # ------------------------------------------------------------------ handlers
    @api.model
    def _get_handler_document(self, res_model, res_id, handler):
        """The document whose ``handler`` may run, or a UserError saying why not."""
        if not res_model or res_model not in self.env or not res_id:
            raise UserError(_("The document of this exchange no longer exists."))
        document = self.env[res_model].browse(res_id).exists()
        if not document:
            raise UserError(_("The document of this exchange no longer exists."))
        allowed = document._crm_exchange_handlers() if hasattr(document, "_crm_exchange_handlers") else ()
        if not handler or handler not in allowed:
            raise UserError(
                _(
                    "%(handler)s is not an exchange handler of %(model)s.",
                    handler=handler or "-",
                    model=res_model,
                )
            )
        return document

    # ------------------------------------------------------------------ scheduling
    @api.model
    def _enqueue(
        self, system, operation, record, handler, request=None, correlation_id=None, parent=None, idempotency_key=None
    ):
        """Journal an outgoing exchange and run it as a job on the system's channel: ``handler``,
        a declared exchange handler of ``record``'s model, is called as ``record.handler(log)``;
        it returns the response and raises on failure."""
        self._get_handler_document(record._name, record.id, handler)
        log = self.sudo().create(
            self._prepare_log_vals(
                system,
                "out",
                operation,
                record=record,
                request=request,
                correlation_id=correlation_id,
                parent=parent,
                idempotency_key=idempotency_key or str(uuid.uuid4()),
                handler=handler,
                state="pending",
            )
        )
        log._schedule_job()
        return log.sudo(False)

    def _schedule_job(self, max_retries=None):
        """A job per exchange on its system's channel. ``max_retries``: attempts the job may make
        (default: the system's attempts not used yet, at least one)."""
        for log in self.sudo():
            system = log.system_id
            attempts = max_retries or max(system.max_attempts - log.attempt_count, 1)
            try:
                job = log.with_delay(
                    channel=system._get_channel_name(),
                    max_retries=attempts,
                    description=_("%(system)s: %(operation)s", system=system.name, operation=log.operation),
                    identity_key=f"crm_exchange_log:{log.id}:{log.attempt_count}",
                )._job_run()
            except (RetryableJobError, FailedJobError):
                # run at once (queue_job__no_delay): the failed attempt is journaled already
                continue
            # a Job, or the queue.job already waiting with the same identity key; none when trapped
            job_record = self.env["queue.job"].sudo().search([("uuid", "=", job.uuid)], limit=1)
            log.write({"job_uuid": job.uuid, "job_id": job_record.id})

    def _current_job(self):
        """The stored queue.job running this exchange now (none when run at once, without a job)."""
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return self.env["queue.job"]
        return self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)

    def _job_run(self):
        """Job: one attempt of the outgoing exchange, recorded. A cancelled or finished exchange is
        not sent. On failure queue_job retries with the system's backoff while the job has retries
        left (``max_retries``); without a job (run at once) the cron hands it to a job later."""
        self.ensure_one()
        log = self.sudo()
        if log.state in ("cancelled", "done"):
            return _("Exchange %(id)s is %(state)s: not sent.", id=log.id, state=log.state)
        job = self._current_job()
        job_uuid = self.env.context.get("job_uuid") or log.job_uuid
        attempt = log.attempt_count + 1
        started = time.monotonic()
        try:
            document = self._get_handler_document(log.res_model, log.res_id, log.handler)
        except UserError as error:
            # nothing to send, or nothing allowed to send it: no retry can help
            log._record_failed_attempt(attempt, str(error), started, job, job_uuid, final=True)
            raise FailedJobError(str(error)) from error
        try:
            response = getattr(document, log.handler)(log)
        except Exception as error:  # noqa: BLE001 - every failure is an attempt of the journal
            if job:
                # the job's own count: queue_job stored the previous tries in ``retry``
                final = bool(job.max_retries) and job.retry + 1 >= job.max_retries
            else:
                final = attempt >= log.system_id.max_attempts
            message = self._format_error(error)
            # a 429 or 503 may say when to come back (Retry-After): never sooner
            delay = log.system_id._retry_backoff(attempt, retry_after=getattr(error, "retry_after", None))
            log._record_failed_attempt(attempt, message, started, job, job_uuid, final=final, delay=delay)
            # queue_job decides: postponed while the job has retries left, failed after the last
            raise RetryableJobError(message, seconds=delay) from error
        duration = int((time.monotonic() - started) * 1000)
        log.write(
            {
                "state": "done",
                "attempt_count": attempt,
                "error_message": False,
                "duration_ms": duration,
                "date_done": fields.Datetime.now(),
                "next_retry_at": False,
                "response_payload": response,
                "job_uuid": job_uuid,
                **({"job_id": job.id} if job else {}),
            }
        )
        self.env["crm.exchange.attempt"].sudo().create(
            {
                "log_id": log.id,
                "number": attempt,
                "state": "done",
                "duration_ms": duration,
                "job_uuid": job_uuid,
                "job_id": job.id,
            }
        )
        return _("Exchange %(id)s done", id=log.id)

    def _record_failed_attempt(self, attempt, message, started, job, job_uuid, final, delay=None):
        """The failed attempt and the exchange's new state, on a cursor of their own: queue_job
        rolls the job's transaction back before it postpones or fails the job. ``delay``: seconds
        until the next attempt (default: the system's backoff)."""
        self.ensure_one()
        duration = int((time.monotonic() - started) * 1000)
        if delay is None:
            delay = self.system_id._retry_backoff(attempt)
        self._update_detached(
            self,
            {
                "state": "failed" if final else "retrying",
                "attempt_count": attempt,
                "error_message": message,
                "duration_ms": duration,
                "date_done": fields.Datetime.now(),
                "next_retry_at": False if final else fields.Datetime.now() + timedelta(seconds=delay),
                "job_uuid": job_uuid,
            },
        )
        self.env["crm.exchange.attempt"]._create_detached(
            {
                "log_id": self.id,
                "number": attempt,
                "state": "failed",
                "error_message": message,
                "duration_ms": duration,
                "job_uuid": job_uuid,
                "job_id": job.id,
            }
        )

    def _sync_job_states(self, jobs):
        """queue_job changed the state of ``jobs`` (failed after the last retry, cancelled or
        requeued from the job queue): the journal follows."""
        for job in jobs:
            state = {"failed": "failed", "cancelled": "cancelled", "pending": "pending"}.get(job.state)
            if not state:
                continue
            # a postponed job is pending again too: only an exchange given up follows a requeue
            from_states = ("failed", "cancelled") if state == "pending" else ("pending", "running", "retrying")
            for log in self.sudo().search([("job_uuid", "=", job.uuid), ("state", "in", from_states)]):
                vals = {"state": state, "next_retry_at": False}
                if state == "failed" and not log.error_message:
                    vals["error_message"] = job.exc_message or job.exc_name
                log.write(vals)

    @api.model
    def _cron_retry_failed(self, date_ref=None, batch_size=200):
        """Hand to queue_job the outgoing exchanges that failed outside a job (sent at once, or
        their job was deleted) while their system allows more attempts. What a job does is
        queue_job's: it retries, and a job it gave up on stays failed until someone retries it.
        Bounded batch, rows locked."""
        now = fields.Datetime.to_datetime(date_ref) if date_ref else fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT l.id FROM crm_exchange_log l
              JOIN crm_exchange_system s ON s.id = l.system_id
             WHERE l.direction = 'out' AND l.handler IS NOT NULL
               AND l.state IN ('failed', 'retrying')
               AND l.attempt_count < s.max_attempts
               AND COALESCE(l.next_retry_at, l.write_date) <= %(now)s
               AND NOT EXISTS (SELECT 1 FROM queue_job j WHERE j.uuid = l.job_uuid)
             ORDER BY l.id
             LIMIT %(limit)s
               FOR UPDATE OF l SKIP LOCKED
            """,
                now=now,
                limit=batch_size + 1,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        logs = self.browse(ids[:batch_size])
        logs.write({"state": "retrying"})
        logs._schedule_job()
        if len(ids) > batch_size:
            self.env["ir.cron"]._notify_progress(done=len(logs), remaining=len(ids) - batch_size)
        return logs
