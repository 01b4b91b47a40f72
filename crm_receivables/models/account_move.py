from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_dunning_paused_until = fields.Date(string="Reminders Paused Until", copy=False,
                                           help="No reminder for this invoice until this date (promise to pay, deferral).")
    crm_dunning_event_ids = fields.One2many("crm.dunning.event", "move_id", string="Reminders")

    def action_crm_send_reminder_now(self):
        """Run the dunning of these invoices now (what is due today, once)."""
        Policy = self.env["crm.dunning.policy"]
        today = fields.Date.context_today(self)
        pairs = []
        for move in self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted"):
            top = Policy._top_level_due(move, today)
            if top and top not in move.crm_dunning_event_ids.level_id:
                pairs.append((move, top))
        Policy._claim_and_act(pairs, today)
        return True
