import math
import secrets
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from ..services.enterprise_data import FORMAT_VERSION, SUPPORTED_VERSIONS

# the longest wait an outside system may impose through Retry-After (a day)
MAX_RETRY_AFTER = 24 * 3600


class CrmExchangeSystem(models.Model):
    """An outside system the CRM exchanges data with (1C, the website, telephony, the bank...):
    its retry policy, job channel, alert threshold and responsible users."""

    _name = "crm.exchange.system"
    _description = "Exchange System"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(required=True, help="Technical code: onec, website, telephony, bank, warehouse...")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Empty: shared by all companies.")
    responsible_user_ids = fields.Many2many(
        "res.users", string="Responsible Users", help="Get an activity when the system starts failing."
    )
    channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job Channel",
        groups="queue_job.group_queue_job_manager",
        help="Outgoing exchanges run as jobs of this channel.",
    )
    max_attempts = fields.Integer(default=5, help="Attempts of an outgoing exchange before it stays failed.")
    retry_delay = fields.Integer(
        string="First Retry Delay (s)", default=60, help="Doubled at each further attempt (backoff)."
    )
    alert_window = fields.Integer(string="Alert Window (minutes)", default=60)
    alert_failure_count = fields.Integer(
        string="Alert at Failures", default=5, help="Number of failures within the window that raises an alert."
    )
    alert_failure_rate = fields.Float(
        string="Alert at Failure Rate (%)",
        default=50.0,
        help="Share of failed exchanges within the window that raises an alert.",
    )
    alert_min_volume = fields.Integer(
        string="Minimum Volume for the Rate",
        default=4,
        help="The failure rate is considered from this number of exchanges within the window.",
    )
    incident_open = fields.Boolean(readonly=True, copy=False)
    incident_date = fields.Datetime(string="Incident Since", readonly=True, copy=False)
    api_key = fields.Char(
        string="API Key",
        copy=False,
        groups="base.group_system",
        help="Key that the system sends in the X-Api-Key header of inbound requests.",
    )
    format_version = fields.Selection(
        selection=[(version, version) for version in SUPPORTED_VERSIONS],
        string="EnterpriseData Version",
        default=FORMAT_VERSION,
        help="Version of 1C's universal format (EnterpriseData) exchanged with this system: messages "
        "are written in it, and a message in another version is journaled as an error.",
    )
    log_ids = fields.One2many("crm.exchange.log", "system_id", string="Exchanges")
    log_count = fields.Integer(string="Exchanges (window)", compute="_compute_stats")
    failed_count = fields.Integer(string="Failures (window)", compute="_compute_stats")
    failure_rate = fields.Float(string="Failure Rate (%)", compute="_compute_stats", digits=(16, 1))
    last_error = fields.Text(compute="_compute_stats", help="Last failure among the exchanges you may see.")
    last_error_date = fields.Datetime(compute="_compute_stats")

    _sql_constraints = [
        ("code_company_uniq", "unique(code, company_id)", "The code of an exchange system must be unique."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        systems = super().create(vals_list)
        systems.filtered(lambda system: not system.channel_id)._create_channels()
        return systems

    def _create_channels(self):
        """A job channel of its own for each system (``root.crm_<code>``): one system's
        backlog never holds the others up, and its capacity is set in the job runner."""
        Channel = self.env["queue.job.channel"].sudo()
        root = self.env.ref("queue_job.channel_root")
        for system in self:
            name = f"crm_{system.code}"
            channel = Channel.search([("name", "=", name), ("parent_id", "=", root.id)], limit=1)
            system.channel_id = channel or Channel.create({"name": name, "parent_id": root.id})

    @api.constrains("max_attempts", "retry_delay", "alert_window")
    def _check_positive(self):
        for system in self:
            if system.max_attempts < 1 or system.retry_delay < 0 or system.alert_window < 1:
                raise ValidationError(
                    _("Attempts and the alert window must be positive, the retry delay not negative.")
                )

    def _get_stats(self, date_ref=None):
        """{system id: (total, failed)} over each system's alert window, one query."""
        if not self:
            return {}
        # the transaction's clock, as create_date (Datetime.now() drops the microseconds)
        now = fields.Datetime.to_datetime(date_ref) if date_ref else self.env.cr.now()
        self.env["crm.exchange.log"].flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT s.id, COUNT(l.id), COUNT(l.id) FILTER (WHERE l.state = 'failed')
              FROM crm_exchange_system s
              LEFT JOIN crm_exchange_log l
                ON l.system_id = s.id AND l.state IN ('done', 'failed', 'retrying')
               AND l.create_date > %(now)s - make_interval(mins => s.alert_window)
               AND l.create_date <= %(now)s
             WHERE s.id = ANY(%(ids)s)
             GROUP BY s.id
            """,
                now=now,
                ids=self.ids,
            )
        )
        return {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}

    @api.depends("log_ids.state")
    def _compute_stats(self):
        stats = self._get_stats()
        Log = self.env["crm.exchange.log"]
        for system in self:
            total, failed = stats.get(system.id, (0, 0))
            system.log_count = total
            system.failed_count = failed
            system.failure_rate = 100.0 * failed / total if total else 0.0
            # as the user: the company rules and the documents they may read apply
            last = Log.search(
                [("system_id", "=", system._origin.id), ("state", "in", ("failed", "retrying"))],
                order="create_date desc, id desc",
                limit=1,
            )
            system.last_error = last.error_message
            system.last_error_date = last.create_date

    # ------------------------------------------------------------------ alerts
    def _is_failing(self, total, failed):
        self.ensure_one()
        if self.alert_failure_count and failed >= self.alert_failure_count:
            return True
        return bool(
            self.alert_failure_rate
            and total >= max(self.alert_min_volume, 1)
            and 100.0 * failed / total >= self.alert_failure_rate
        )

    def _check_alerts(self, date_ref=None):
        """Open an incident (activity for the responsible users, message on the system) when a
        system passes its threshold, close it with a message when it is healthy again; once each."""
        stats = self._get_stats(date_ref)
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        for system in self:
            total, failed = stats.get(system.id, (0, 0))
            failing = system._is_failing(total, failed)
            if failing and not system.incident_open:
                system.write({"incident_open": True, "incident_date": fields.Datetime.now()})
                rate = 100.0 * failed / total if total else 0.0
                body = _(
                    "%(system)s is failing: %(failed)s of %(total)s exchanges failed "
                    "in the last %(minutes)s minutes (%(rate)s%%).",
                    system=system.name,
                    failed=failed,
                    total=total,
                    minutes=system.alert_window,
                    rate=round(rate, 1),
                )
                system.message_post(body=Markup("<p>%s</p>") % body, subtype_xmlid="mail.mt_note")
                summary = _("Exchange with %(system)s is failing", system=system.name)
                for user in system.responsible_user_ids:
                    system.activity_unlink(["mail.mail_activity_data_warning"], user_id=user.id)
                    system.activity_schedule(
                        act_type_xmlid=activity_type.get_external_id()[activity_type.id],
                        summary=summary,
                        note=body,
                        user_id=user.id,
                    )
            elif not failing and system.incident_open:
                system.write({"incident_open": False, "incident_date": False})
                system.message_post(
                    body=Markup("<p>%s</p>") % _("%(system)s is healthy again.", system=system.name),
                    subtype_xmlid="mail.mt_note",
                )
                system.activity_feedback(["mail.mail_activity_data_warning"], feedback=_("Recovered"))

    @api.model
    def _cron_check_alerts(self, date_ref=None):
        self.search([])._check_alerts(date_ref)

    # ------------------------------------------------------------------ helpers
    @api.model
    def _get_by_code(self, code, company=None):
        company = company or self.env.company
        System = self.sudo()
        return System.search([("code", "=", code), ("company_id", "=", company.id)], limit=1) or System.search(
            [("code", "=", code), ("company_id", "=", False)], limit=1
        )

    def _get_channel_name(self):
        self.ensure_one()
        return self.sudo().channel_id.complete_name or "root"

    def action_generate_api_key(self):
        """A new key for inbound requests; administrators only."""
        self.ensure_one()
        if not self.env.is_system():
            raise AccessError(_("Only administrators can generate API keys."))
        self.check_access("read")  # a system of the administrator's companies
        self.sudo().api_key = secrets.token_urlsafe(32)
        return True

    def action_open_logs(self):
        """The exchanges of the system (those the user may read)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_exchange_log.crm_exchange_log_action")
        action["domain"] = [("system_id", "=", self.id)]
        action["context"] = {"default_system_id": self.id}
        return action

    def _retry_backoff(self, attempt, retry_after=None):
        """Seconds before attempt ``attempt + 1``: the first delay doubled at each attempt, and
        never sooner than the outside system asked (``retry_after``: the seconds of its
        ``Retry-After`` answer to a 429 or 503, or of Telegram's ``parameters.retry_after``), up
        to a day. A short ``Retry-After`` does not shorten the backoff: the attempts are bounded."""
        self.ensure_one()
        delay = int(self.retry_delay * 2 ** max(attempt - 1, 0))
        if isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool) and retry_after > 0:
            delay = max(delay, min(math.ceil(retry_after), MAX_RETRY_AFTER))
        return delay

    def _next_retry_at(self, attempt, retry_after=None):
        return fields.Datetime.now() + timedelta(seconds=self._retry_backoff(attempt, retry_after))
