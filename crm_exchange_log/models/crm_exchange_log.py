import logging
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError

from ..services.masking import to_text

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("retrying", "Retrying"),
    ("cancelled", "Cancelled"),
]
PAYLOAD_GROUPS = "crm_exchange_log.group_exchange_integrator,base.group_system"
DEFAULT_ATTACHMENT_THRESHOLD = 64 * 1024  # characters
PREVIEW_SIZE = 2000


class Exchange:
    """What the code inside :meth:`CrmExchangeLog._track` fills in."""

    def __init__(self, log_vals):
        self.vals = log_vals
        self.response = None
        self.state = "done"
        self.error = None
        self.log = None
        self.res_model = log_vals.get("res_model")
        self.res_id = log_vals.get("res_id")

    def set_record(self, record):
        self.res_model, self.res_id = record._name, record.id


class CrmExchangeLog(models.Model):
    """One exchange with an outside system: what was sent and received (secrets masked, large
    payloads as attachments), the result, its duration, the document concerned and the business
    flow (correlation id) it belongs to. Failures are written on a cursor of their own so that
    they stay when the business transaction rolls back."""

    _name = "crm.exchange.log"
    _description = "Exchange Log"
    _order = "create_date desc, id desc"
    _rec_name = "operation"

    system_id = fields.Many2one("crm.exchange.system", required=True, index=True, ondelete="restrict")
    system_code = fields.Char(related="system_id.code", string="System Code")
    direction = fields.Selection([("in", "Incoming"), ("out", "Outgoing")], required=True, default="out")
    operation = fields.Char(required=True)
    state = fields.Selection(STATES, required=True, default="pending", index=True)
    res_model = fields.Char(string="Document Model", index=True)
    res_id = fields.Many2oneReference(string="Document ID", model_field="res_model", index=True)
    res_name = fields.Char(string="Document", compute="_compute_res_name")
    partner_id = fields.Many2one("res.partner", string="Customer", index="btree_not_null", ondelete="set null")
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    correlation_id = fields.Char(index=True, default=lambda self: str(uuid.uuid4()))
    parent_id = fields.Many2one("crm.exchange.log", string="Parent Exchange", index=True, ondelete="set null")
    child_ids = fields.One2many("crm.exchange.log", "parent_id", string="Sub-exchanges")
    request_payload = fields.Text(groups=PAYLOAD_GROUPS)
    response_payload = fields.Text(groups=PAYLOAD_GROUPS)
    request_attachment_id = fields.Many2one("ir.attachment", groups=PAYLOAD_GROUPS, ondelete="set null")
    response_attachment_id = fields.Many2one("ir.attachment", groups=PAYLOAD_GROUPS, ondelete="set null")
    error_message = fields.Text()
    attempt_count = fields.Integer(default=0)
    attempt_limit = fields.Integer(help="Attempts allowed before the exchange stays failed.")
    next_retry_at = fields.Datetime(index="btree_not_null")
    duration_ms = fields.Integer(string="Duration (ms)", aggregator="avg")
    idempotency_key = fields.Char(index="btree_not_null", copy=False)
    handler = fields.Char(help="Method of the document model that performs an outgoing exchange (retries).")
    job_id = fields.Many2one("queue.job", string="Job", ondelete="set null", copy=False)
    job_uuid = fields.Char(string="Job UUID", index="btree_not_null", copy=False)
    attempt_ids = fields.One2many("crm.exchange.attempt", "log_id", string="Attempts")
    date_done = fields.Datetime(string="Finished On")
    failed = fields.Integer(compute="_compute_failed", store=True, aggregator="sum")

    @api.depends("state")
    def _compute_failed(self):
        for log in self:
            log.failed = int(log.state == "failed")

    @api.depends("res_model", "res_id")
    def _compute_res_name(self):
        for log in self:
            name = False
            if log.res_model in self.env and log.res_id:
                record = self.env[log.res_model].browse(log.res_id).exists()
                if record and record.has_access("read"):
                    name = record.display_name
            log.res_name = name

    @api.depends("system_id", "operation", "create_date")
    def _compute_display_name(self):
        for log in self:
            log.display_name = f"{log.system_id.name or ''} / {log.operation or ''}"

    # ------------------------------------------------------------------ writing the journal
    @api.model
    def _prepare_log_vals(
        self,
        system,
        direction,
        operation,
        record=None,
        request=None,
        response=None,
        correlation_id=None,
        parent=None,
        idempotency_key=None,
        **extra,
    ):
        parent = parent or self.browse()
        vals = {
            "system_id": system.id,
            "direction": direction,
            "operation": operation,
            "correlation_id": correlation_id or parent.correlation_id or str(uuid.uuid4()),
            "parent_id": parent.id or False,
            "idempotency_key": idempotency_key,
            "company_id": (record and "company_id" in record._fields and record.company_id.id)
            or system.company_id.id
            or self.env.company.id,
            **extra,
        }
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        if request is not None:
            vals["request_payload"] = request
        if response is not None:
            vals["response_payload"] = response
        return vals

    @api.model
    def _partner_of(self, res_model, res_id):
        if not res_model or not res_id or res_model not in self.env:
            return False
        record = self.env[res_model].sudo().browse(res_id).exists()
        if not record:
            return False
        if res_model == "res.partner":
            return record.commercial_partner_id.id
        if "commercial_partner_id" in record._fields:
            return record.commercial_partner_id.id
        if "partner_id" in record._fields and record.partner_id:
            return record.partner_id.commercial_partner_id.id
        return False

    def _attachment_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param("crm_exchange_log.attachment_threshold")
        return int(value) if value else DEFAULT_ATTACHMENT_THRESHOLD

    @api.model_create_multi
    def create(self, vals_list):
        large = []
        threshold = self._attachment_threshold()
        for index, vals in enumerate(vals_list):
            if "partner_id" not in vals:
                vals["partner_id"] = self._partner_of(vals.get("res_model"), vals.get("res_id"))
            for key in ("request_payload", "response_payload"):
                if key in vals:
                    vals[key] = to_text(vals[key])
                    if vals[key] and len(vals[key]) > threshold:
                        large.append((index, key, vals[key]))
                        vals[key] = vals[key][:PREVIEW_SIZE] + "\n" + _("[... truncated: full payload attached]")
        logs = super().create(vals_list)
        logs._attach_payloads([(logs[index], key, text) for index, key, text in large])
        return logs

    def write(self, vals):
        for key in ("request_payload", "response_payload"):
            if key in vals:
                vals[key] = to_text(vals[key])
                if vals[key] and len(vals[key]) > self._attachment_threshold():
                    text = vals[key]
                    vals[key] = text[:PREVIEW_SIZE] + "\n" + _("[... truncated: full payload attached]")
                    self._attach_payloads([(log, key, text) for log in self])
        return super().write(vals)

    def _attach_payloads(self, items):
        if not items:
            return
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": f"{log.operation}-{key.split('_')[0]}-{log.id}.txt",
                        "raw": text.encode("utf-8"),
                        "mimetype": "text/plain",
                        "res_model": self._name,
                        "res_id": log.id,
                    }
                    for log, key, text in items
                ]
            )
        )
        for (log, key, _text), attachment in zip(items, attachments, strict=False):
            field = "request_attachment_id" if key == "request_payload" else "response_attachment_id"
            super(CrmExchangeLog, log.sudo()).write({field: attachment.id})

    @api.model
    def _journal(self, system, direction, operation, state="done", error=None, duration_ms=0, **kwargs):
        """Record one exchange at once (inbound webhooks, steps of a flow). A failure is written on
        a separate cursor so that it survives a rollback of the caller's transaction."""
        vals = self._prepare_log_vals(system, direction, operation, **kwargs)
        vals.update(
            state=state,
            error_message=error or False,
            duration_ms=duration_ms,
            attempt_count=1,
            date_done=fields.Datetime.now(),
        )
        if state == "failed":
            return self._create_detached(vals)
        return self.sudo().create(vals).sudo(False)

    @api.model
    @contextmanager
    def _track(
        self,
        system,
        direction,
        operation,
        record=None,
        request=None,
        correlation_id=None,
        parent=None,
        idempotency_key=None,
        reraise=True,
        log=None,
        **extra,
    ):
        """Context manager every exchange goes through::

            with env["crm.exchange.log"]._track(system, "out", "push_partner", record=partner,
                                                 request=payload) as exchange:
                exchange.response = client.call(...)

        On success a ``done`` log is created (or ``log`` updated) in the current transaction;
        on an exception a ``failed`` log is committed on its own cursor, then the exception is
        re-raised (``reraise=False`` swallows it: ``exchange.error`` tells what happened).
        """
        vals = self._prepare_log_vals(
            system,
            direction,
            operation,
            record=record,
            request=request,
            correlation_id=correlation_id,
            parent=parent,
            idempotency_key=idempotency_key,
            **extra,
        )
        exchange = Exchange(vals)
        exchange.log = log or self.browse()
        started = time.monotonic()
        try:
            yield exchange
        except Exception as error:  # noqa: BLE001 - journal whatever happens
            exchange.state = "failed"
            exchange.error = self._format_error(error)
            vals.update(self._finish_vals(exchange, started))
            exchange.log = self._write_failure(exchange.log, vals)
            if reraise:
                raise
        else:
            vals.update(self._finish_vals(exchange, started))
            if exchange.state == "failed":
                exchange.log = self._write_failure(exchange.log, vals)
            elif exchange.log:
                exchange.log.sudo().write(self._update_vals(vals))
            else:
                exchange.log = self.sudo().create(vals).sudo(False)

    def _finish_vals(self, exchange, started):
        vals = {
            "state": exchange.state,
            "error_message": exchange.error or False,
            "duration_ms": int((time.monotonic() - started) * 1000),
            "date_done": fields.Datetime.now(),
            "res_model": exchange.res_model or False,
            "res_id": exchange.res_id or False,
        }
        if exchange.response is not None:
            vals["response_payload"] = exchange.response
        return vals

    @api.model
    def _format_error(self, error):
        message = str(error) or error.__class__.__name__
        if not isinstance(error, (UserError,)) and not getattr(error, "crm_exchange_clear", False):
            message = f"{error.__class__.__name__}: {message}"
        return message[:10000]

    @api.model
    def _update_vals(self, vals):
        keep = (
            "state",
            "error_message",
            "duration_ms",
            "date_done",
            "response_payload",
            "res_model",
            "res_id",
            "request_payload",
            "attempt_count",
            "next_retry_at",
            "job_uuid",
            "job_id",
        )
        return {key: value for key, value in vals.items() if key in keep}

    def _write_failure(self, log, vals):
        if log:
            return self._update_detached(log, self._update_vals(vals))
        vals.setdefault("attempt_count", 1)
        return self._create_detached(vals)

    # ------------------------------------------------------------------ separate cursor
    @api.model
    def _detached_refs_visible(self, cr, vals):
        """The rows the new log refers to are committed (visible from another transaction)."""
        checks = [
            ("crm_exchange_system", vals.get("system_id")),
            ("crm_exchange_log", vals.get("parent_id")),
            ("res_company", vals.get("company_id")),
            ("res_users", self.env.uid),
            ("queue_job", vals.get("job_id")),
        ]
        for table, record_id in checks:
            if record_id:
                cr.execute(SQL("SELECT 1 FROM %s WHERE id = %s", SQL.identifier(table), record_id))
                if not cr.fetchone():
                    return False
        return True

    @api.model
    def _create_detached(self, vals):
        """Create the log on a cursor of its own, committed at once; in the current transaction
        when what it refers to is not committed yet (then it lives and dies with it).

        A log committed on its own cursor may be invisible to the current transaction (its
        snapshot is older): the returned record has the written values in cache, read them
        before the next commit or use what :meth:`_track` exposes on the exchange."""
        if "partner_id" not in vals:
            vals["partner_id"] = self._partner_of(vals.get("res_model"), vals.get("res_id"))
        log_id = None
        try:
            with self.env.registry.cursor() as cr:
                if self._detached_refs_visible(cr, vals):
                    detached_vals = dict(vals)
                    if detached_vals.get("partner_id"):
                        cr.execute(SQL("SELECT 1 FROM res_partner WHERE id = %s", detached_vals["partner_id"]))
                        if not cr.fetchone():
                            # a customer created by the transaction that fails: not in the timeline
                            detached_vals["partner_id"] = False
                    log = self.with_env(self.env(cr=cr, su=True)).create(detached_vals)
                    log.flush_recordset()
                    cache = {
                        name: log[name]
                        for name in (
                            "system_id",
                            "direction",
                            "operation",
                            "state",
                            "error_message",
                            "res_model",
                            "res_id",
                            "correlation_id",
                            "parent_id",
                            "attempt_count",
                            "duration_ms",
                            "idempotency_key",
                            "partner_id",
                            "company_id",
                        )
                    }
                    log_id = log.id
        except Exception:  # noqa: BLE001 - the journal must not break the business
            _logger.exception("Exchange journal: could not write on a separate cursor")
            log_id = None
        if log_id:
            log = self.browse(log_id)
            log._update_cache(
                {name: (value.id if isinstance(value, models.BaseModel) else value) for name, value in cache.items()},
                validate=False,
            )
            return log
        return self.sudo().create(vals).sudo(False)

    def _update_detached(self, log, vals):
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("SELECT id FROM crm_exchange_log WHERE id = %s FOR UPDATE SKIP LOCKED", log.id))
                if cr.fetchone():
                    detached = self.with_env(self.env(cr=cr, su=True)).browse(log.id)
                    detached.write(dict(vals))
                    detached.flush_recordset()
                    done = True
                else:
                    done = False
        except Exception:  # noqa: BLE001
            _logger.exception("Exchange journal: could not write on a separate cursor")
            done = False
        if done:
            # the current transaction may not see the new values (older snapshot): keep them in cache
            log.invalidate_recordset()
            log._update_cache(
                {
                    key: value
                    for key, value in vals.items()
                    if key in log._fields and key not in ("request_payload", "response_payload")
                },
                validate=False,
            )
        else:
            log.sudo().write(vals)
        return log

    # ------------------------------------------------------------------ outgoing exchanges as jobs
    @api.model
    def _enqueue(
        self, system, operation, record, handler, request=None, correlation_id=None, parent=None, idempotency_key=None
    ):
        """Journal an outgoing exchange and run it as a job on the system's channel: ``handler``
        is a method of ``record`` called as ``record.handler(log)``; it returns the response and
        raises on failure."""
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
                attempt_limit=system.max_attempts,
            )
        )
        log._schedule_job()
        return log.sudo(False)

    def _schedule_job(self, eta=None):
        for log in self.sudo():
            system = log.system_id
            if log.state != "retrying":
                log.state = "pending"
            try:
                job = log.with_delay(
                    channel=system._get_channel_name(),
                    max_retries=max(log.attempt_limit - log.attempt_count, 1),
                    eta=eta,
                    description=_("%(system)s: %(operation)s", system=system.name, operation=log.operation),
                    identity_key=f"crm_exchange_log:{log.id}:{log.attempt_count}",
                )._job_run()
            except (RetryableJobError, FailedJobError):
                # run at once (queue_job__no_delay): the failed attempt is journaled already
                continue
            # trapped or run at once in tests: the job may not be stored
            values = {"job_uuid": job.uuid}
            job_record = self.env["queue.job"].sudo().search([("uuid", "=", job.uuid)], limit=1) if job.uuid else None
            if job_record:
                values["job_id"] = job_record.id
            log.write(values)

    def _job_run(self):
        """Job: one attempt of the outgoing exchange. Each attempt is recorded; a failure is
        retried by queue_job with the system's backoff until the attempt limit, then stays failed."""
        self.ensure_one()
        log = self.sudo()
        job_uuid = self.env.context.get("job_uuid")
        job_record = self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1) if job_uuid else None
        attempt = log.attempt_count + 1
        record = self.env[log.res_model].browse(log.res_id).exists() if log.res_model else None
        started = time.monotonic()
        try:
            if not record or not log.handler:
                raise UserError(_("The document of this exchange no longer exists."))
            response = getattr(record, log.handler)(log)
        except Exception as error:  # noqa: BLE001
            message = self._format_error(error)
            final = attempt >= (log.attempt_limit or log.system_id.max_attempts)
            duration = int((time.monotonic() - started) * 1000)
            vals = {
                "state": "failed" if final else "retrying",
                "attempt_count": attempt,
                "error_message": message,
                "duration_ms": duration,
                "date_done": fields.Datetime.now(),
                "next_retry_at": False if final else log.system_id._next_retry_at(attempt),
                "job_uuid": job_uuid or log.job_uuid,
            }
            self._update_detached(log, vals)
            self.env["crm.exchange.attempt"]._create_detached(
                {
                    "log_id": log.id,
                    "number": attempt,
                    "state": "failed",
                    "error_message": message,
                    "duration_ms": duration,
                    "job_uuid": job_uuid,
                    "job_id": job_record.id if job_record else False,
                }
            )
            if final:
                raise FailedJobError(message) from error
            raise RetryableJobError(message, seconds=log.system_id._retry_backoff(attempt)) from error
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
                "job_uuid": job_uuid or log.job_uuid,
                **({"job_id": job_record.id} if job_record else {}),
            }
        )
        self.env["crm.exchange.attempt"].sudo().create(
            {
                "log_id": log.id,
                "number": attempt,
                "state": "done",
                "duration_ms": duration,
                "job_uuid": job_uuid,
                "job_id": job_record.id if job_record else False,
            }
        )
        return _("Exchange %(id)s done", id=log.id)

    def action_retry(self):
        """Send failed outgoing exchanges again (same idempotency key); integrators only."""
        if not self.env.user.has_group("crm_exchange_log.group_exchange_integrator") and not self.env.su:
            raise AccessError(_("Only integrators can retry exchanges."))
        logs = self.sudo().filtered(lambda log: log.state in ("failed", "cancelled", "retrying"))
        not_retryable = logs.filtered(lambda log: log.direction != "out" or not log.handler)
        if not_retryable and len(logs) == 1:
            raise UserError(_("This exchange cannot be sent again: it is not an outgoing exchange of a document."))
        logs -= not_retryable
        for log in logs:
            log.attempt_limit = log.attempt_count + log.system_id.max_attempts
            log.state = "pending"
        logs._schedule_job()
        return True

    def action_cancel(self):
        self.sudo().filtered(lambda log: log.state in ("pending", "failed", "retrying")).write(
            {"state": "cancelled", "next_retry_at": False}
        )

    @api.model
    def _cron_retry_failed(self, date_ref=None, batch_size=200):
        """Exchanges waiting for a retry whose job is gone (failed, cancelled, lost) and failed
        exchanges that still have attempts left are scheduled again; bounded batch, rows locked."""
        now = fields.Datetime.to_datetime(date_ref) if date_ref else fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT l.id FROM crm_exchange_log l
              JOIN crm_exchange_system s ON s.id = l.system_id
              LEFT JOIN queue_job j ON j.uuid = l.job_uuid
             WHERE l.direction = 'out' AND l.handler IS NOT NULL
               AND l.state IN ('failed', 'retrying')
               AND l.attempt_count < GREATEST(COALESCE(l.attempt_limit, 0), s.max_attempts)
               AND COALESCE(l.next_retry_at, l.write_date) <= %(now)s
               AND (j.id IS NULL OR j.state IN ('failed', 'cancelled', 'done'))
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
        for log in logs:
            log.state = "retrying"
        logs._schedule_job()
        if len(ids) > batch_size:
            self.env["ir.cron"]._notify_progress(done=len(logs), remaining=len(ids) - batch_size)
        return logs

    @api.model
    def _cron_purge(self, date_ref=None, batch_size=5000):
        """Delete successful exchanges older than the retention period; failed ones stay."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("crm_exchange_log.retention_days") or 0)
        if days <= 0:
            return 0
        now = fields.Datetime.to_datetime(date_ref) if date_ref else fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
            SELECT id FROM crm_exchange_log
             WHERE state = 'done' AND create_date < %s
             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            """,
                now - timedelta(days=days),
                batch_size + 1,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        logs = self.sudo().browse(ids[:batch_size])
        count = len(logs)
        attachments = (
            self.env["ir.attachment"].sudo().search([("res_model", "=", self._name), ("res_id", "in", logs.ids)])
        )
        attachments.unlink()
        logs.unlink()
        if len(ids) > batch_size:
            self.env["ir.cron"]._notify_progress(done=count, remaining=len(ids) - batch_size)
        return count

    # ------------------------------------------------------------------ views
    def action_open_document(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(_("This exchange is not linked to a document."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_trace(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_exchange_log.crm_exchange_log_action")
        action.update(
            {
                "name": _("Trace %(correlation)s", correlation=self.correlation_id),
                "domain": [("correlation_id", "=", self.correlation_id)],
                "context": {"search_default_group_parent": 0},
                "view_mode": "list,form",
                "views": [
                    (self.env.ref("crm_exchange_log.crm_exchange_log_view_list_trace").id, "list"),
                    (False, "form"),
                ],
            }
        )
        return action

    @api.model
    def _action_for_documents(self, records):
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_exchange_log.crm_exchange_log_action")
        action["domain"] = [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        action["context"] = {}
        return action

    @api.model
    def _count_for_documents(self, records):
        groups = self._read_group(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)], ["res_id"], ["__count"]
        )
        return dict(groups)

    # ------------------------------------------------------------------ access follows the document
    def _is_integrator(self):
        return self.env.su or self.env.user.has_group("crm_exchange_log.group_exchange_integrator")

    @api.model
    def _get_document_access_domain(self):
        """Exchanges of the documents the user can read, one subquery per document model."""
        self.flush_model(["res_model"])
        # the few document models of the journal, by a skip scan of the res_model index
        self.env.cr.execute(
            SQL("""
            WITH RECURSIVE models AS (
                (SELECT res_model FROM crm_exchange_log WHERE res_model IS NOT NULL ORDER BY res_model LIMIT 1)
                UNION ALL
                SELECT (SELECT l.res_model FROM crm_exchange_log l WHERE l.res_model > models.res_model
                         ORDER BY l.res_model LIMIT 1)
                  FROM models WHERE models.res_model IS NOT NULL
            )
            SELECT res_model FROM models WHERE res_model IS NOT NULL
        """)
        )
        domains = []
        for (model,) in self.env.cr.fetchall():
            if model not in self.env or model == self._name:
                continue
            Model = self.env[model]
            if not Model.has_access("read"):
                continue
            domains.append([("res_model", "=", model), ("res_id", "in", Model._search([]))])
        return expression.OR(domains) if domains else expression.FALSE_DOMAIN

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if not self._is_integrator():
            domain = expression.AND([domain, self._get_document_access_domain()])
        return super()._search(domain, offset=offset, limit=limit, order=order)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if not self or self._is_integrator():
            return result
        logs = self - result[0] if result else self
        if not logs:
            return result
        if operation != "read":
            forbidden = logs
        else:
            allowed_ids = set()
            by_model = {}
            for log in logs.sudo():
                by_model.setdefault(log.res_model, []).append(log)
            for model, model_logs in by_model.items():
                if not model or model not in self.env or model == self._name:
                    continue
                documents = self.env[model].browse({log.res_id for log in model_logs if log.res_id}).exists()
                readable_ids = set(documents._filtered_access("read").ids)
                allowed_ids.update(log.id for log in model_logs if log.res_id in readable_ids)
            forbidden = logs.filtered(lambda log: log.id not in allowed_ids)
        if not forbidden:
            return result
        records = (result[0] | forbidden) if result else forbidden

        def make_error():
            return AccessError(_("You cannot see exchanges of documents you cannot read."))

        return records, make_error
