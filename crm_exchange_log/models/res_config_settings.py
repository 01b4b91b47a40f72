from odoo import _, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_onec_wsdl_url = fields.Char(
        string="1C Web Service URL",
        config_parameter="crm_exchange_log.onec_wsdl_url",
        help="Address of the published web service, e.g. https://1c.example.kz/base/ws/EnterpriseDataExchange_1_0_1_1.1cws",
    )
    crm_onec_username = fields.Char(
        string="1C User", config_parameter="crm_exchange_log.onec_username", groups="base.group_system"
    )
    crm_onec_password = fields.Char(
        string="1C Password", config_parameter="crm_exchange_log.onec_password", groups="base.group_system"
    )
    crm_onec_timeout = fields.Integer(
        string="1C Timeout (s)", config_parameter="crm_exchange_log.onec_timeout", default=30
    )
    crm_onec_exchange_plan = fields.Char(
        string="Exchange Plan",
        config_parameter="crm_exchange_log.onec_exchange_plan",
        default="СинхронизацияДанныхЧерезУниверсальныйФормат",
    )
    crm_onec_peer_code = fields.Char(string="1C Node Code", config_parameter="crm_exchange_log.onec_peer_code")
    crm_onec_own_peer_code = fields.Char(string="Own Node Code", config_parameter="crm_exchange_log.onec_own_peer_code")
    crm_onec_part_size = fields.Integer(
        string="Part Size (KB)", config_parameter="crm_exchange_log.onec_part_size", default=1024
    )
    crm_onec_auto_push = fields.Boolean(
        string="Send Invoices to 1C on Posting", config_parameter="crm_exchange_log.onec_auto_push"
    )
    crm_exchange_retention_days = fields.Integer(
        string="Keep Successful Exchanges (days)",
        config_parameter="crm_exchange_log.retention_days",
        default=90,
        help="Successful exchanges older than this are deleted every night; failed ones stay. 0 keeps everything.",
    )

    def action_crm_onec_ping(self):
        self.execute()
        log = self.env["crm.onec.connector"].ping()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if log.state == "done" else "danger",
                "title": "1C",
                "message": log.error_message or self.env._("Connection to 1C works."),
                "sticky": log.state != "done",
            },
        }

    def action_crm_onec_initial_sync(self):
        """Settings > CrmAI > 1C: the first load of history runs as a job on the 1C channel (years of
        history take minutes); the journal shows each file as it is applied. A second click while
        the load waits or runs queues nothing more."""
        self.execute()
        connector = self.env["crm.onec.connector"]
        connector._check_integrator()
        system = connector._get_system()
        connector.with_delay(
            channel=system._get_channel_name(),
            description=_("1C: first load of history"),
            identity_key=f"crm_exchange_log:onec_initial_sync:{system.id}",
            max_retries=1,
        ).action_initial_sync()
        journal = self.env["ir.actions.act_window"]._for_xml_id("crm_exchange_log.crm_exchange_log_action")
        journal["domain"] = [("system_id", "=", system.id), ("direction", "=", "in")]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": "1C",
                "message": _(
                    "The history is being loaded from 1C in the background. "
                    "The journal shows each file as it is applied."
                ),
                "next": journal,
            },
        }
