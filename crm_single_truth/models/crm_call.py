from datetime import datetime, timezone

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.phone import phone_key

DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound")]
DIRECTION_ALIASES = {
    "in": "inbound",
    "inbound": "inbound",
    "incoming": "inbound",
    "out": "outbound",
    "outbound": "outbound",
    "outgoing": "outbound",
}


class CrmCall(models.Model):
    """A phone call with the customer: who, when, how long, what was said, and its recording."""

    _name = "crm.call"
    _description = "Customer Call"
    _inherit = ["mail.thread"]
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
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    duration = fields.Integer(string="Duration (s)", help="Length of the conversation in seconds.")
    duration_minutes = fields.Float(string="Duration", compute="_compute_duration_minutes", help="Minutes:seconds.")
    phone = fields.Char(index=True)
    summary = fields.Text(help="What was discussed and agreed.")
    recording = fields.Binary(attachment=True, help="Audio recording of the call (MP3, OGG or WAV).")
    recording_filename = fields.Char()
    recording_url = fields.Char(string="Recording URL", help="Where the telephony provider keeps the recording.")
    recording_src = fields.Char(string="Listen", compute="_compute_recording_src")
    external_id = fields.Char(string="Telephony Call ID", readonly=True, copy=False)

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

    # ------------------------------------------------------------------ telephony webhook
    @api.model
    def _crm_process_webhook(self, data):
        """Record a call reported by the telephony provider; a call id seen before changes
        nothing. Raises ValueError when malformed."""
        call_id = data.get("call_id")
        if not isinstance(call_id, (str, int)) or isinstance(call_id, bool) or not str(call_id).strip():
            raise ValueError("call_id is missing")
        phone = data.get("phone")
        if not isinstance(phone, str) or not phone_key(phone):
            raise ValueError("phone is missing or not a phone number")
        direction = DIRECTION_ALIASES.get(str(data.get("direction", "")).lower())
        if not direction:
            raise ValueError("direction must be inbound or outbound")
        duration = data.get("duration", 0)
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
            raise ValueError("duration must be a whole number of seconds")
        try:
            started = datetime.fromisoformat(str(data.get("started_at", "")).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("started_at must be an ISO 8601 date and time") from None
        if started.tzinfo:
            started = started.astimezone(timezone.utc).replace(tzinfo=None)
        recording_url = data.get("recording_url") or False
        if recording_url and (
            not isinstance(recording_url, str) or not recording_url.startswith(("https://", "http://"))
        ):
            raise ValueError("recording_url must be an http(s) URL")
        external_id = str(call_id).strip()
        if self.search_count([("external_id", "=", external_id)], limit=1):
            return [(False, external_id)]
        partner = self.env["res.partner"]._crm_find_by_phone(phone)
        try:
            # a concurrent delivery of the same call waits for this one, then finds it recorded
            with self.env.cr.savepoint():
                call = self.create(
                    {
                        "external_id": external_id,
                        "phone": phone,
                        "direction": direction,
                        "date": started,
                        "duration": duration,
                        "recording_url": recording_url,
                        "partner_id": partner.id or False,
                        "user_id": partner.commercial_partner_id.user_id.id or partner.user_id.id or False,
                        "company_id": partner.company_id.id or self.env.company.id,
                    }
                )
                call.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            return [(False, external_id)]
        return [(call, external_id)]
