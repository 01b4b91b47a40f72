from odoo import fields, models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.exchange.consumer.mixin"]

    crm_onec_ref = fields.Char(string="1C Reference", copy=False, readonly=True)

    def _crm_exchange_handlers(self):
        return super()._crm_exchange_handlers() | {"_crm_onec_push"}

    def action_onec_push(self):
        """Send the customer invoices to 1C; the exchange is journaled whatever happens."""
        return self.env["crm.onec.connector"]._action_push(self, "push_invoice")

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda move: move.move_type in ("out_invoice", "out_refund"))
        if invoices and self.env["crm.onec.connector"]._auto_push_enabled():
            self.env["crm.onec.connector"]._enqueue_push(invoices, "push_invoice")
        return posted

    def _crm_onec_push(self, log):
        return self.env["crm.onec.connector"]._send(self, log)
