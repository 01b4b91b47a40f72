from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_segment_refresh_hours = fields.Integer(
        string="Refresh Segments Every (hours)",
        config_parameter="crm_segments.refresh_hours",
        default=1,
        help="How often the segments are evaluated again.",
    )

    def set_values(self):
        res = super().set_values()
        cron = self.env.ref("crm_segments.ir_cron_refresh_segments", raise_if_not_found=False)
        hours = max(self.crm_segment_refresh_hours, 1)
        if cron and (cron.interval_type, cron.interval_number) != ("hours", hours):
            cron.sudo().write({"interval_type": "hours", "interval_number": hours})
        return res
