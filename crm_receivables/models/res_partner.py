from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_aging_ids = fields.One2many("crm.receivable.aging", "partner_id", string="Receivables Aging", readonly=True)

    def action_crm_open_aging(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_receivables.crm_receivable_aging_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    crm_dunning_policy_id = fields.Many2one("crm.dunning.policy", string="Dunning Policy", company_dependent=True,
                                            help="Empty: the company's default policy.")
    crm_dunning_paused_until = fields.Date(string="Promised to Pay By",
                                           help="No reminder until this date (promise to pay).")

    def action_crm_send_reminders_now(self):
        """Run the dunning of this customer's invoices now: what is due today, once, in one email."""
        self.env["crm.dunning.policy"]._cron_run_dunning(partners=self.commercial_partner_id)
        return True
