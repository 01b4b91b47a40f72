import base64
import logging
from datetime import datetime, timedelta, timezone

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..services import mango, recording, zadarma
from .crm_messenger_message import utc_from_timestamp

_logger = logging.getLogger(__name__)

DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound")]
DIRECTION_ALIASES = {
    "in": "inbound",
    "inbound": "inbound",
    "incoming": "inbound",
    "out": "outbound",
    "outbound": "outbound",
    "outgoing": "outbound",
}
CALL_STATUSES = [
    ("ringing", "Ringing"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("busy", "Busy"),
    ("failed", "Not Connected"),
]
FINAL_STATUSES = ("answered", "missed", "busy", "failed")
PROVIDERS = [("generic", "Generic"), ("zadarma", "Zadarma"), ("mango", "Mango Office")]
RECORDING_STATES = [("pending", "To Fetch"), ("done", "Fetched"), ("failed", "Could Not Fetch")]
RECORDING_MAX_ATTEMPTS = 5
DEFAULT_RECORDING_MAX_BYTES = 32 * 1024 * 1024
# Zadarma recommends fetching a recording some 40 seconds after it is announced
ZADARMA_RECORDING_DELAY = timedelta(seconds=40)
MAX_DURATION = 7 * 24 * 3600


def _text(value, name, required=True, limit=128):
    if value is None or value == "":
        if required:
            raise ValueError(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{name} must be a string")
    value = str(value).strip()
    if required and not value:
        raise ValueError(f"{name} is missing")
    if len(value) > limit:
        raise ValueError(f"{name} is too long")
    return value


def _seconds(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValueError(f"{name} must be a whole number of seconds")
    value = int(str(value).strip())
    if value > MAX_DURATION:
        raise ValueError(f"{name} is out of range")
    return value


class CrmCall(models.Model):
    """A phone call with the customer: who, when, how long, what was said, and its recording.
    Calls come from the telephony provider's notifications (Zadarma, Mango Office, or the generic
    JSON webhook); a missed call from a customer becomes an activity to call back."""

    _name = "crm.call"
    _description = "Customer Call"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True)
    commercial_partner_id = fields.Many2one(
        "res.partner", string="Customer Company", related="partner_id.commercial_partner_id", store=True, index=True
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", default=lambda self: self.env.user, index=True, tracking=True
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    direction = fields.Selection(DIRECTIONS, required=True, default="outbound")
    call_status = fields.Selection(CALL_STATUSES, string="Result", tracking=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    duration = fields.Integer(string="Duration (s)", help="Length of the conversation in seconds.")
    duration_minutes = fields.Float(string="Duration", compute="_compute_duration_minutes", help="Minutes:seconds.")
    phone = fields.Char(index=True)
    extension = fields.Char(help="Internal number of the employee at the PBX.")
    summary = fields.Text(help="What was discussed and agreed.")
    recording = fields.Binary(attachment=True, help="Audio recording of the call (MP3, OGG or WAV).")
    recording_filename = fields.Char()
    recording_url = fields.Char(string="Recording URL", help="Where the telephony provider keeps the recording.")
    recording_src = fields.Char(string="Listen", compute="_compute_recording_src")
    recording_ref = fields.Char(string="Provider Recording", readonly=True, copy=False)
    recording_state = fields.Selection(RECORDING_STATES, readonly=True, copy=False, index="btree_not_null")
    recording_attempts = fields.Integer(readonly=True, copy=False)
    recording_next_try = fields.Datetime(readonly=True, copy=False)
    recording_error = fields.Text(readonly=True, copy=False)
    provider = fields.Selection(PROVIDERS, readonly=True, copy=False)
    external_id = fields.Char(string="Telephony Call ID", readonly=True, copy=False)
    missed_activity_done = fields.Boolean(string="Call-back Planned", readonly=True, copy=False)

    _sql_constraints = [
        ("external_id_uniq", "unique(external_id)", "A call of the telephony provider is recorded once."),
        ("duration_positive", "CHECK(duration >= 0)", "A call cannot last a negative time."),
    ]

    @api.depends("duration")
    def _compute_duration_minutes(self):
        for call in self:
            call.duration_minutes = (call.duration or 0) / 60.0

    @api.depends("recording", "recording_url")
    def _compute_recording_src(self):
        for call in self:
            if call.id and call.recording:
                call.recording_src = f"/web/content/crm.call/{call.id}/recording"
            else:
                call.recording_src = call.recording_url or False

    @api.depends("partner_id", "phone", "direction", "date")
    def _compute_display_name(self):
        labels = dict(self._fields["direction"]._description_selection(self.env))
        for call in self:
            who = call.partner_id.display_name or call.phone or _("Unknown caller")
            call.display_name = f"{labels.get(call.direction, '')}: {who}"

    @api.constrains("recording_url")
    def _check_recording_url(self):
        for call in self:
            if call.recording_url and not call.recording_url.startswith(("https://", "http://")):
                raise ValidationError(_("The recording URL must start with http:// or https://."))

    @api.onchange("phone")
    def _onchange_phone_find_partner(self):
        if self.phone and not self.partner_id:
            self.partner_id = self.env["res.partner"]._crm_find_by_phone(self.phone)

    # ------------------------------------------------------------------ one call per provider call id
    @api.model
    def _crm_claim(self, external_id, provider, direction, date):
        """The call of the provider's ``external_id``: created by this delivery (True) or found.
        Concurrent deliveries of the same call wait for each other; one whose snapshot predates
        the other's commit gets a serialization failure that Odoo retries (not logged here)."""
        company = self.env.company
        self.env.cr.execute(
            SQL(
                """INSERT INTO crm_call (external_id, provider, company_id, direction, date, duration, call_status,
                                         create_uid, create_date, write_uid, write_date)
                   VALUES (%(external_id)s, %(provider)s, %(company)s, %(direction)s, %(date)s, 0, 'ringing',
                           %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
              ON CONFLICT (external_id) DO NOTHING RETURNING id""",
                external_id=external_id,
                provider=provider,
                company=company.id,
                direction=direction,
                date=date,
                uid=self.env.uid,
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if row:
            return self.browse(row[0]), True
        return self.search([("external_id", "=", external_id)], limit=1), False

    def _crm_customer_vals(self, number):
        """Phone, customer, salesperson and company of a call with ``number``."""
        Partner = self.env["res.partner"]
        phone = next(iter(Partner._crm_e164_candidates(number)), None) or number
        partner = Partner._crm_find_by_phone(phone)
        return {
            "phone": phone,
            "partner_id": partner.id or False,
            "user_id": partner.commercial_partner_id.user_id.id or partner.user_id.id or False,
            "company_id": partner.company_id.id or self.env.company.id,
        }

    def _crm_update(self, values):
        """Bring the call up to date with one notification; a final result is never undone and a
        repeated notification changes nothing."""
        self.ensure_one()
        if self.call_status in FINAL_STATUSES and values.get("call_status") == "ringing":
            values.pop("call_status")
        if self.duration and not values.get("duration"):
            values.pop("duration", None)
        changes = {key: value for key, value in values.items() if self._crm_differs(key, value)}
        if changes:
            self.write(changes)
        self._crm_after_update()
        return bool(changes)

    def _crm_differs(self, fname, value):
        current = self[fname]
        if self._fields[fname].type == "many2one":
            return current.id != (value or False)
        return (current or False) != (value or False)

    def _crm_after_update(self):
        for call in self:
            if call.direction == "inbound" and call.call_status in ("missed", "busy") and not call.missed_activity_done:
                call._crm_schedule_call_back()

    def _crm_schedule_call_back(self):
        """A missed call from a customer: an activity to call back, for the customer's salesperson."""
        self.ensure_one()
        user = (
            self.partner_id.commercial_partner_id.user_id
            or self.partner_id.user_id
            or self.user_id
            or self.env["res.users"]
            .browse(int(self.env["ir.config_parameter"].sudo().get_param("crm_single_truth.missed_call_user_id") or 0))
            .exists()
            or self.env.ref("base.user_admin", raise_if_not_found=False)
        )
        target = self.partner_id or self
        target.sudo().activity_schedule(
            "crm_single_truth.mail_activity_type_missed_call",
            date_deadline=fields.Date.context_today(self),
            summary=_("Call back %(phone)s", phone=self.phone or _("unknown number")),
            note=_("Missed call on %(date)s.", date=fields.Datetime.to_string(self.date)),
            user_id=user.id if user else self.env.uid,
        )
        self.missed_activity_done = True

    # ------------------------------------------------------------------ generic JSON webhook
    @api.model
    def _crm_process_webhook(self, data):
        """A call reported in the generic JSON format; a call id seen before changes nothing.
        Raises ValueError when malformed."""
        external_id = _text(data.get("call_id"), "call_id")
        phone = data.get("phone")
        if not isinstance(phone, str) or not self.env["res.partner"]._crm_e164_candidates(phone):
            raise ValueError("phone is missing or not a phone number")
        direction = DIRECTION_ALIASES.get(str(data.get("direction", "")).lower())
        if not direction:
            raise ValueError("direction must be inbound or outbound")
        duration = data.get("duration", 0)
        if not isinstance(duration, int) or isinstance(duration, bool) or not 0 <= duration <= MAX_DURATION:
            raise ValueError("duration must be a whole number of seconds")
        started_at = data.get("started_at")
        if not isinstance(started_at, str) or len(started_at) > 64:
            raise ValueError("started_at must be an ISO 8601 date and time")
        try:
            started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
            if started.tzinfo:
                started = started.astimezone(timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise ValueError("started_at must be an ISO 8601 date and time") from None
        if not 2000 <= started.year <= 2100:
            raise ValueError("started_at is out of range")
        recording_url = data.get("recording_url") or False
        if recording_url and (
            not isinstance(recording_url, str)
            or len(recording_url) > 2048
            or not recording_url.startswith(("https://", "http://"))
        ):
            raise ValueError("recording_url must be an http(s) URL")
        call, created = self._crm_claim(external_id, "generic", direction, started)
        if not created:
            return [(False, external_id)]
        values = {
            **self._crm_customer_vals(phone),
            "phone": phone,
            "direction": direction,
            "date": started,
            "duration": duration,
            "call_status": "answered" if duration else ("missed" if direction == "inbound" else "failed"),
            "recording_url": recording_url,
        }
        hosts = self._crm_setting("telephony_recording_hosts").split(",")
        if recording_url and recording.host_allowed(recording_url, hosts):
            values.update(recording_state="pending", recording_next_try=fields.Datetime.now())
        call._crm_update(values)
        return [(call, external_id)]

    # ------------------------------------------------------------------ Zadarma
    @api.model
    def _crm_zadarma_time(self, value):
        """``call_start`` is the PBX account's local time ("YYYY-MM-DD HH:MM:SS")."""
        if not isinstance(value, str) or len(value) > 32:
            raise ValueError("call_start must be a date and time")
        try:
            local = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValueError("call_start must be a date and time") from None
        tz = pytz.timezone(self._crm_setting("zadarma_timezone") or "Asia/Almaty")
        return tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _crm_process_zadarma(self, notification):
        """One Zadarma notification (form fields, signature checked). Raises ValueError when malformed."""
        event = notification.get("event")
        if event not in zadarma.SIGNED_FIELDS:
            return []
        pbx_call_id = _text(notification.get("pbx_call_id"), "pbx_call_id")
        external_id = f"zadarma:{pbx_call_id}"
        delivery_id = f"{external_id}:{event}"
        if event == "NOTIFY_RECORD":
            record_id = _text(notification.get("call_id_with_rec"), "call_id_with_rec")
            call, _created = self._crm_claim(external_id, "zadarma", "inbound", fields.Datetime.now())
            changed = call._crm_update(self._crm_recording_vals(call, record_id, ZADARMA_RECORDING_DELAY))
            return [(call if changed else False, delivery_id)]
        if event in ("NOTIFY_ANSWER", "NOTIFY_INTERNAL"):
            return [(False, delivery_id)]
        started = self._crm_zadarma_time(notification.get("call_start"))
        outbound = event.startswith("NOTIFY_OUT")
        number = _text(notification.get("destination" if outbound else "caller_id"), "phone number")
        values = {
            **self._crm_customer_vals(number),
            "direction": "outbound" if outbound else "inbound",
            "date": started,
            "extension": _text(notification.get("internal"), "internal", required=False),
            "call_status": "ringing",
        }
        if event in ("NOTIFY_END", "NOTIFY_OUT_END"):
            duration = _seconds(notification.get("duration"), "duration")
            disposition = str(notification.get("disposition") or "")[:64]
            answered = disposition == zadarma.ANSWERED
            status = "answered" if answered else "busy" if disposition == zadarma.BUSY else "missed"
            values.update(
                duration=duration if answered else 0, call_status=status if not outbound or answered else "failed"
            )
            if str(notification.get("is_recorded")) == "1" and notification.get("call_id_with_rec"):
                record_id = _text(notification.get("call_id_with_rec"), "call_id_with_rec")
                values.update(recording_ref=record_id)
        call, created = self._crm_claim(external_id, "zadarma", values["direction"], started)
        if values.get("recording_ref") and call.recording_state not in ("done", "pending"):
            values.update(self._crm_recording_vals(call, values["recording_ref"], ZADARMA_RECORDING_DELAY))
        if not created and call.partner_id:
            for key in ("partner_id", "user_id", "company_id"):
                values.pop(key, None)
        changed = call._crm_update(values)
        return [(call if changed or created else False, delivery_id)]

    # ------------------------------------------------------------------ Mango Office
    @api.model
    def _crm_process_mango(self, event, data):
        """One Mango Office event (``events/summary``...; signature checked). Raises ValueError
        when malformed."""
        if event == "events/summary":
            return self._crm_mango_summary(data)
        if event == "events/call":
            return self._crm_mango_call(data)
        if event in ("events/recording", "events/record/added"):
            return self._crm_mango_recording(event, data)
        return []

    @api.model
    def _crm_mango_parties(self, data):
        parties = []
        for key in ("from", "to"):
            party = data.get(key) if data.get(key) is not None else {}
            if not isinstance(party, dict):
                raise ValueError(f"{key} must be an object")
            parties.append(party)
        return parties

    @api.model
    def _crm_mango_summary(self, data):
        entry_id = _text(data.get("entry_id"), "entry_id")
        direction = data.get("call_direction")
        if direction not in (mango.DIRECTION_INTERNAL, mango.DIRECTION_INBOUND, mango.DIRECTION_OUTBOUND):
            raise ValueError("call_direction must be 0, 1 or 2")
        if direction == mango.DIRECTION_INTERNAL:
            return [(False, f"mango:{entry_id}:summary")]
        source, target = self._crm_mango_parties(data)
        inbound = direction == mango.DIRECTION_INBOUND
        customer = source if inbound else target
        employee = target if inbound else source
        number = _text(customer.get("number"), "customer number", required=False)
        created_at = utc_from_timestamp(data.get("create_time"))
        talk_time = data.get("talk_time") or 0
        end_time = data.get("end_time") or 0
        duration = 0
        if talk_time:
            duration = max(0, (utc_from_timestamp(end_time) - utc_from_timestamp(talk_time)).total_seconds())
        if data.get("entry_result") not in (0, 1):
            raise ValueError("entry_result must be 0 or 1")
        answered = data["entry_result"] == 1
        values = {
            **(self._crm_customer_vals(number) if number else {}),
            "direction": "inbound" if inbound else "outbound",
            "date": created_at,
            "duration": int(min(duration, MAX_DURATION)),
            "extension": _text(employee.get("extension"), "extension", required=False),
            "call_status": "answered" if answered else ("missed" if inbound else "failed"),
        }
        external_id = f"mango:{entry_id}"
        call, created = self._crm_claim(external_id, "mango", values["direction"], created_at)
        if not created and call.partner_id:
            for key in ("partner_id", "user_id", "company_id"):
                values.pop(key, None)
        changed = call._crm_update(values)
        return [(call if changed or created else False, f"{external_id}:summary")]

    @api.model
    def _crm_mango_call(self, data):
        entry_id = _text(data.get("entry_id"), "entry_id")
        state = data.get("call_state")
        if state not in ("Appeared", "Connected", "OnHold", "Disconnected"):
            raise ValueError("call_state is unknown")
        seq = data.get("seq")
        timestamp = utc_from_timestamp(data.get("timestamp"))
        source, target = self._crm_mango_parties(data)
        delivery_id = f"mango:{entry_id}:call:{data.get('call_id')}:{seq}"
        if state != "Appeared" or source.get("extension") and target.get("extension"):
            return [(False, delivery_id)]
        inbound = not source.get("extension")
        number = _text((source if inbound else target).get("number"), "number", required=False)
        external_id = f"mango:{entry_id}"
        call, created = self._crm_claim(external_id, "mango", "inbound" if inbound else "outbound", timestamp)
        if not created:
            return [(False, delivery_id)]
        call._crm_update(self._crm_customer_vals(number) if number else {})
        return [(call, delivery_id)]

    @api.model
    def _crm_mango_recording(self, event, data):
        recording_id = _text(data.get("recording_id"), "recording_id")
        entry_id = _text(data.get("entry_id"), "entry_id")
        delivery_id = f"mango:{entry_id}:{event}:{recording_id}"
        if event == "events/recording":
            state = data.get("recording_state")
            if state not in ("Started", "Continued", "Completed"):
                raise ValueError("recording_state is unknown")
            if state != "Completed" or data.get("recipient") not in ("Cloud", "CloudAndMail"):
                return [(False, delivery_id)]
            delay = timedelta(minutes=1)
        else:
            delay = timedelta(0)
        timestamp = utc_from_timestamp(data.get("timestamp")) if data.get("timestamp") else fields.Datetime.now()
        call, _created = self._crm_claim(f"mango:{entry_id}", "mango", "inbound", timestamp)
        changed = call._crm_update(self._crm_recording_vals(call, recording_id, delay))
        return [(call if changed else False, delivery_id)]

    # ------------------------------------------------------------------ recordings
    @api.model
    def _crm_setting(self, key):
        return self.env["ir.config_parameter"].sudo().get_param(f"crm_single_truth.{key}") or ""

    @api.model
    def _crm_recording_vals(self, call, reference, delay):
        if call.recording_state in ("done", "pending") and call.recording_ref == reference:
            return {}
        return {
            "recording_ref": reference,
            "recording_state": "pending",
            "recording_attempts": 0,
            "recording_error": False,
            "recording_next_try": fields.Datetime.now() + delay,
        }

    def _crm_download_recording(self):
        """``(content, mimetype, filename)`` of this call's recording, from the provider's host only."""
        self.ensure_one()
        max_bytes = int(self._crm_setting("recording_max_bytes") or DEFAULT_RECORDING_MAX_BYTES)
        if self.provider == "zadarma":
            api_url = self._crm_setting("zadarma_api_url") or zadarma.DEFAULT_API_URL
            key, secret = self._crm_setting("zadarma_api_key"), self._crm_setting("zadarma_api_secret")
            if not key or not secret:
                raise recording.RecordingError("the Zadarma API key and secret are not set")
            try:
                link = zadarma.request_recording_link(api_url, key, secret, self.recording_ref)
            except ValueError as error:
                raise recording.RecordingError(str(error), retryable=True) from None
            except Exception as error:  # noqa: BLE001 - network failure: retried later
                raise recording.RecordingError(str(error), retryable=True) from None
            hosts = [recording.host_of(api_url), ".zadarma.com"]
            return recording.download(link, hosts, max_bytes, secrets=[secret])
        if self.provider == "mango":
            api_url = self._crm_setting("mango_api_url") or mango.DEFAULT_API_URL
            key, salt = self._crm_setting("mango_api_key"), self._crm_setting("mango_api_salt")
            if not key or not salt:
                raise recording.RecordingError("the Mango Office API key and salt are not set")
            try:
                response = mango.recording_request(api_url, key, salt, self.recording_ref)
            except Exception as error:  # noqa: BLE001 - network failure: retried later
                raise recording.RecordingError(str(error), retryable=True) from None
            hosts = [recording.host_of(api_url), ".mango-office.ru"]
            return recording.download(api_url, hosts, max_bytes, response=response, secrets=[salt])
        hosts = self._crm_setting("telephony_recording_hosts").split(",")
        return recording.download(self.recording_url, hosts, max_bytes)

    def action_fetch_recording(self):
        """Fetch the recording now (button of the call form)."""
        self.check_access("write")
        for call in self.sudo().filtered(lambda c: c.recording_ref or c.recording_url):
            call._crm_fetch_recording()
        return True

    def _crm_fetch_recording(self):
        self.ensure_one()
        try:
            content, mimetype, filename = self._crm_download_recording()
        except recording.RecordingError as error:
            attempts = self.recording_attempts + 1
            final = not error.retryable or attempts >= RECORDING_MAX_ATTEMPTS
            self.write(
                {
                    "recording_attempts": attempts,
                    "recording_error": str(error)[:1000],
                    "recording_state": "failed" if final else "pending",
                    "recording_next_try": False if final else fields.Datetime.now() + timedelta(minutes=2**attempts),
                }
            )
            return False
        extension = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/ogg": ".ogg", "audio/wav": ".wav"}.get(
            mimetype, ""
        )
        self.write(
            {
                "recording": base64.b64encode(content),
                "recording_filename": filename if "." in filename else filename + (extension or ".mp3"),
                "recording_state": "done",
                "recording_error": False,
                "recording_next_try": False,
                "recording_attempts": self.recording_attempts + 1,
            }
        )
        return True

    @api.model
    def _cron_fetch_recordings(self, date_ref=None, batch_size=20):
        """Fetch announced recordings into their calls: bounded batch, rows locked, failures retried
        with backoff up to five attempts."""
        now = fields.Datetime.to_datetime(date_ref) if date_ref else fields.Datetime.now()
        self.flush_model(["recording_state", "recording_next_try"])
        self.env.cr.execute(
            SQL(
                """SELECT id FROM crm_call
                    WHERE recording_state = 'pending' AND COALESCE(recording_next_try, create_date) <= %s
                    ORDER BY recording_next_try, id LIMIT %s FOR UPDATE SKIP LOCKED""",
                now,
                batch_size + 1,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        calls = self.browse(ids[:batch_size])
        for call in calls:
            call._crm_fetch_recording()
        self.env["ir.cron"]._notify_progress(done=len(calls), remaining=max(len(ids) - batch_size, 0))
        return calls
