import logging
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..services.masking import storable
from .crm_exchange_payload_mixin import PAYLOAD_FIELDS

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("retrying", "Retrying"),
    ("cancelled", "Cancelled"),
]
INTEGRATOR_GROUP = "crm_exchange_log.group_exchange_integrator"
# what outside systems write into the journal's own columns
TEXT_FIELDS = ("operation", "error_message", "idempotency_key", "correlation_id")


ONEC_OBJECT_OPERATIONS = ("onec_payment", "onec_sale", "onec_counterparty", "onec_deletion")


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
    """One exchange with an outside system: the result, its duration, the document concerned and
    the business flow (correlation id) it belongs to. Failures are written on a cursor of their
    own so that they stay when the business transaction rolls back. Its payloads are kept by
    ``crm.exchange.payload.mixin``, outgoing exchanges run as jobs by ``crm.exchange.job.mixin``;
    access follows the document."""

    _name = "crm.exchange.log"
    _inherit = ["crm.exchange.payload.mixin", "crm.exchange.job.mixin", "crm.exchange.document.access.mixin"]
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
    error_message = fields.Text()
    attempt_count = fields.Integer(default=0, help="Attempts made so far (each one is listed under Attempts).")
    next_retry_at = fields.Datetime(index="btree_not_null", help="When the job tries again.")
    duration_ms = fields.Integer(string="Duration (ms)", aggregator="avg")
    idempotency_key = fields.Char(index="btree_not_null", copy=False)
    attempt_ids = fields.One2many("crm.exchange.attempt", "log_id", string="Attempts")
    date_done = fields.Datetime(string="Finished On")
    failed = fields.Integer(compute="_compute_failed", store=True, aggregator="sum")

    @api.model
    def _failed_of(self, state):
        return int(state == "failed")

    @api.depends("state")
    def _compute_failed(self):
        for log in self:
            log.failed = self._failed_of(log.state)

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
            "correlation_id": correlation_id
            or parent.correlation_id
            or self._correlation_of(record)
            or str(uuid.uuid4()),
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
    def _correlation_of(self, record):
        """The flow a document was created in (lead > quotation > invoice carry it on)."""
        if record and len(record) == 1 and "crm_correlation_id" in record._fields:
            return record.sudo().crm_correlation_id
        return False

    @api.model
    def _partner_of(self, res_model, res_id):
        """The customer whose timeline shows the exchanges of this document."""
        return self._partners_of([(res_model, res_id)]).get((res_model, res_id), False)

    @api.model
    def _partners_of(self, documents):
        """{(res_model, res_id): customer id} of the existing ``documents``, read model by model
        (a journal of a thousand documents reads each model once, not each document)."""
        ids_by_model = defaultdict(set)
        for res_model, res_id in documents:
            if res_model and res_id and res_model in self.env:
                ids_by_model[res_model].add(res_id)
        partners = {}
        for res_model, ids in ids_by_model.items():
            for record in self.env[res_model].sudo().browse(sorted(ids)).exists():
                if hasattr(record, "_crm_exchange_partner"):
                    partner = record._crm_exchange_partner()
                else:
                    partner = self.env["crm.exchange.consumer.mixin"]._crm_exchange_partner_of(record)
                partners[res_model, record.id] = partner.id
        return partners

    @api.model
    def _clean_vals(self, vals):
        """Text from outside systems as PostgreSQL can store it (no NUL, no lone surrogate)."""
        for key in TEXT_FIELDS:
            if isinstance(vals.get(key), str):
                vals[key] = storable(vals[key])
        return vals

    @api.model
    def _complete_vals(self, vals_list):
        """What :meth:`create` adds to the values of new entries (in place): text cleaned, the
        document's customer, the failed flag."""
        partners = self._partners_of(
            [(vals.get("res_model"), vals.get("res_id")) for vals in vals_list if "partner_id" not in vals]
        )
        for vals in vals_list:
            self._clean_vals(vals)
            if "partner_id" not in vals:
                vals["partner_id"] = partners.get((vals.get("res_model"), vals.get("res_id")), False)
            # inserted with the row: a journal written by the thousand is not updated afterwards
            vals.setdefault("failed", self._failed_of(vals.get("state")))
        return vals_list

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(self._complete_vals(vals_list))

    @api.model
    def _create_journal_rows(self, vals_list):
        """The entries of ``vals_list`` stored as :meth:`create` stores them, with one INSERT (the
        1C load journals every object it applies): the records, in the order of ``vals_list``.
        An entry the INSERT does not reproduce (a payload kept in a file, a default to apply, a
        value that is not a plain column) goes through :meth:`create`."""
        if not vals_list:
            return self.browse()
        self.check_access("create")
        self._complete_vals(vals_list)
        threshold = self._payload_threshold()
        columns = {
            name
            for name, field in self._fields.items()
            if field.store and field.column_type and not field.inverse and not field.company_dependent
        } - {"id", *models.LOG_ACCESS_COLUMNS}
        computed = {name for name, field in self._fields.items() if field.store and field.compute}
        defaulted = {}  # {keys of the values: whether create adds defaults to them}
        runs = []  # consecutive entries of the same way: [(by INSERT, [values])]
        for vals in vals_list:
            row = self._prepare_payload_vals(dict(vals), threshold)
            keys = frozenset(row)
            if keys not in defaulted:
                defaulted[keys] = bool(self.default_get([name for name in self._fields if name not in keys]))
            insert = (
                not defaulted[keys]
                and not any(row.get(name) for name in PAYLOAD_FIELDS.values())
                and keys - set(PAYLOAD_FIELDS.values()) <= columns
                and computed <= keys
            )
            if insert:
                for name in PAYLOAD_FIELDS.values():
                    row.pop(name, None)  # no file: create makes no attachment
            if not runs or runs[-1][0] != insert:
                runs.append((insert, []))
            runs[-1][1].append(row if insert else vals)
        ids = []
        for insert, rows in runs:
            ids += self._insert_journal_rows(rows) if insert else self.create(rows).ids
        return self.browse(ids)

    @api.model
    def _insert_journal_rows(self, rows):
        """One INSERT of ``rows`` (complete values of plain columns) converted as ``_create``
        converts them: their ids."""
        now, uid = self.env.cr.now(), self.env.uid
        rows = [{**row, "create_uid": uid, "create_date": now, "write_uid": uid, "write_date": now} for row in rows]
        names = sorted({name for row in rows for name in row})
        row_fields = [self._fields[name] for name in names]
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(self._table),
                SQL(", ").join(map(SQL.identifier, names)),
                SQL(", ").join(
                    tuple(
                        field.convert_to_column_insert(row[field.name], self, row)
                        if field.name in row
                        else models.SQL_DEFAULT
                        for field in row_fields
                    )
                    for row in rows
                ),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        records = self.browse(ids)
        # what create updates in cache: the documents' lists of entries
        for field in row_fields:
            for inverse in self.pool.field_inverses[field]:
                self.env[inverse.model_name].invalidate_model([inverse.name], flush=False)
        records._validate_fields(names)
        if self._check_company_auto:
            records._check_company()
        records.check_access("create")
        return ids

    def write(self, vals):
        return super().write(self._clean_vals(dict(vals)))

    @api.model
    def _journal(self, system, direction, operation, state="done", error=None, duration_ms=0, **kwargs):
        """Record one exchange at once (inbound webhooks, steps of a flow). A failure is written on
        a separate cursor so that it survives a rollback of the caller's transaction."""
        vals = self._journal_vals(system, direction, operation, state, error, duration_ms, **kwargs)
        if state == "failed":
            return self._create_detached(vals)
        return self.sudo().create(vals).sudo(False)

    @api.model
    def _journal_vals(self, system, direction, operation, state="done", error=None, duration_ms=0, **kwargs):
        """The values of the entry :meth:`_journal` records (for a caller that creates many at once)."""
        vals = self._prepare_log_vals(system, direction, operation, **kwargs)
        vals.update(
            state=state,
            error_message=error or False,
            duration_ms=duration_ms,
            attempt_count=1,
            date_done=fields.Datetime.now(),
        )
        return vals

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
                    if key in log._fields and key not in PAYLOAD_FIELDS and key not in PAYLOAD_FIELDS.values()
                },
                validate=False,
            )
        else:
            log.sudo().write(vals)
        return log

    # ------------------------------------------------------------------ integrators' actions
    def _check_integrator(self):
        if not self._is_integrator():
            raise AccessError(_("Only integrators can retry or cancel exchanges."))

    def action_retry(self):
        """Send failed outgoing exchanges again (same idempotency key) in a new job with the
        system's number of attempts; integrators only, on exchanges they may write."""
        self._check_integrator()
        self.check_access("write")
        logs = self.filtered(lambda log: log.state in ("failed", "cancelled", "retrying"))
        # an object received from 1C whose application failed is applied again from its payload
        incoming = logs.filtered(lambda log: log.direction == "in" and log.operation in ONEC_OBJECT_OPERATIONS)
        for log in incoming:
            self.env["crm.onec.connector"]._retry_object(log)
        logs -= incoming
        if not logs:
            return True
        not_retryable = logs.filtered(lambda log: log.direction != "out" or not log.handler)
        if not_retryable and len(logs) == 1:
            raise UserError(_("This exchange cannot be sent again: it is not an outgoing exchange of a document."))
        logs -= not_retryable
        # the new job replaces one still waiting (which would send the same exchange again)
        logs.sudo().job_id.filtered(
            lambda job: job.state in ("wait_dependencies", "pending", "enqueued")
        ).button_cancelled()
        logs.write({"state": "pending", "next_retry_at": False})
        for log in logs:
            log._schedule_job(max_retries=log.system_id.max_attempts)
        return True

    def action_cancel(self):
        """Cancel pending, retrying or failed exchanges and their jobs (a cancelled exchange is
        never sent); integrators only, on exchanges they may write."""
        self._check_integrator()
        self.check_access("write")
        logs = self.filtered(lambda log: log.state in ("pending", "failed", "retrying"))
        logs.write({"state": "cancelled", "next_retry_at": False})
        logs.sudo().job_id.button_cancelled()
        return True

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
        logs.unlink()  # with the payload files (attachments of the records)
        if len(ids) > batch_size:
            self.env["ir.cron"]._notify_progress(done=count, remaining=len(ids) - batch_size)
        return count

    # ------------------------------------------------------------------ views
    def action_open_document(self):
        """The document of the exchange (opened with the user's own rights)."""
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
        """Every exchange of the same business flow (those the user may read)."""
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

    # ------------------------------------------------------------------ access
    @api.model
    def _is_integrator(self):
        return self.env.su or self.env.user.has_group(INTEGRATOR_GROUP)

    @api.model
    def _document_access_bypass(self):
        return self._is_integrator()
