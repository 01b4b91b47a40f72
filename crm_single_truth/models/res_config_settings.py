import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_anomaly_factor = fields.Float(
        string="Unusual Purchase Factor",
        config_parameter="crm_single_truth.anomaly_factor",
        default=5.0,
        help="A sale order or invoice above this many times the customer's average check "
        "(3 past purchases or more) is flagged and the salesperson gets an activity.",
    )
    crm_temperature_hot_days = fields.Integer(
        string="Hot up to (days)",
        config_parameter="crm_single_truth.temperature_hot_days",
        default=30,
        help="A customer whose last purchase is at most this many days old is hot.",
    )
    crm_temperature_cold_days = fields.Integer(
        string="Cold after (days)",
        config_parameter="crm_single_truth.temperature_cold_days",
        default=90,
        help="A customer whose last purchase is older than this is cold; in between, warm.",
    )
    crm_telegram_secret_token = fields.Char(
        string="Telegram Secret Token",
        config_parameter="crm_single_truth.telegram_secret_token",
        groups="base.group_system",
    )
    crm_whatsapp_verify_token = fields.Char(
        string="WhatsApp Verify Token",
        config_parameter="crm_single_truth.whatsapp_verify_token",
        groups="base.group_system",
    )
    crm_whatsapp_app_secret = fields.Char(
        string="WhatsApp App Secret",
        config_parameter="crm_single_truth.whatsapp_app_secret",
        groups="base.group_system",
    )
    crm_telephony_api_key = fields.Char(
        string="Telephony API Key",
        config_parameter="crm_single_truth.telephony_api_key",
        groups="base.group_system",
    )

    # outbound messengers and telephony providers (system parameters, administrators only)
    crm_whatsapp_api_url = fields.Char(
        string="WhatsApp API URL",
        config_parameter="crm_single_truth.whatsapp_api_url",
        groups="base.group_system",
        help="Graph API base with its version; empty: https://graph.facebook.com/v21.0.",
    )
    crm_whatsapp_token = fields.Char(
        string="WhatsApp Access Token", config_parameter="crm_single_truth.whatsapp_token", groups="base.group_system"
    )
    crm_whatsapp_phone_number_id = fields.Char(
        string="WhatsApp Phone Number ID",
        config_parameter="crm_single_truth.whatsapp_phone_number_id",
        groups="base.group_system",
    )
    crm_whatsapp_template = fields.Char(
        string="WhatsApp Template",
        config_parameter="crm_single_truth.whatsapp_template",
        groups="base.group_system",
        help="Approved template with one body parameter ({{1}}, the text) used when the customer has not "
        "written for 24 hours.",
    )
    crm_whatsapp_document_template = fields.Char(
        string="WhatsApp Document Template",
        config_parameter="crm_single_truth.whatsapp_document_template",
        groups="base.group_system",
        help="Approved template with a document header and one body parameter, for documents sent outside "
        "the 24-hour window.",
    )
    crm_whatsapp_template_lang = fields.Char(
        string="Template Language",
        config_parameter="crm_single_truth.whatsapp_template_lang",
        default="ru",
        groups="base.group_system",
        help="Language code of the approved templates, e.g. ru or kk.",
    )
    crm_telegram_api_url = fields.Char(
        string="Telegram API URL",
        config_parameter="crm_single_truth.telegram_api_url",
        groups="base.group_system",
        help="Bot API base; empty: https://api.telegram.org.",
    )
    crm_telegram_bot_token = fields.Char(
        string="Telegram Bot Token", config_parameter="crm_single_truth.telegram_bot_token", groups="base.group_system"
    )
    crm_zadarma_api_key = fields.Char(
        string="Zadarma Key", config_parameter="crm_single_truth.zadarma_api_key", groups="base.group_system"
    )
    crm_zadarma_api_secret = fields.Char(
        string="Zadarma Secret", config_parameter="crm_single_truth.zadarma_api_secret", groups="base.group_system"
    )
    crm_zadarma_timezone = fields.Char(
        string="Zadarma Time Zone",
        config_parameter="crm_single_truth.zadarma_timezone",
        default="Asia/Almaty",
        groups="base.group_system",
        help="Time zone of the Zadarma account, in which it reports call times.",
    )
    crm_mango_api_key = fields.Char(
        string="Mango Office Unique Code",
        config_parameter="crm_single_truth.mango_api_key",
        groups="base.group_system",
        help="The PBX's unique code (vpbx_api_key).",
    )
    crm_mango_api_salt = fields.Char(
        string="Mango Office Signing Key",
        config_parameter="crm_single_truth.mango_api_salt",
        groups="base.group_system",
    )
    crm_telephony_recording_hosts = fields.Char(
        string="Recording Hosts",
        config_parameter="crm_single_truth.telephony_recording_hosts",
        groups="base.group_system",
        help="Hosts the generic call webhook may name for recordings, separated by commas "
        "(.example.com: any subdomain). Recordings elsewhere are not fetched.",
    )
    crm_missed_call_user_id = fields.Many2one(
        "res.users",
        string="Missed Calls of Unknown Numbers",
        config_parameter="crm_single_truth.missed_call_user_id",
        help="Who gets the call-back activity when the caller is not a customer with a salesperson.",
    )

    @api.constrains("crm_zadarma_timezone")
    def _check_crm_zadarma_timezone(self):
        for settings in self:
            if settings.crm_zadarma_timezone and settings.crm_zadarma_timezone not in pytz.all_timezones_set:
                raise ValidationError(
                    _("%(tz)s is not a time zone, e.g. Asia/Almaty.", tz=settings.crm_zadarma_timezone)
                )

    @api.constrains("crm_temperature_hot_days", "crm_temperature_cold_days", "crm_anomaly_factor")
    def _check_crm_thresholds(self):
        for settings in self:
            if (
                settings.crm_temperature_hot_days < 0
                or settings.crm_temperature_cold_days < settings.crm_temperature_hot_days
            ):
                raise ValidationError(_("The cold threshold must be at least the hot threshold, and both positive."))
            if settings.crm_anomaly_factor < 1:
                raise ValidationError(_("The unusual purchase factor must be at least 1."))
