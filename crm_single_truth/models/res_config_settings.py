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
