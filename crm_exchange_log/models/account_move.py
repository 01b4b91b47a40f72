from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    crm_exchange_count = fields.Integer(string="Exchanges", compute="_compute_crm_exchange_count")
    crm_onec_ref = fields.Char(string="1C Reference", copy=False, readonly=True)

    def _compute_crm_exchange_count(self):
        counts = self.env["crm.exchange.log"]._count_for_documents(self)
        for move in self:
            move.crm_exchange_count = counts.get(move.id, 0)

    def action_crm_open_exchanges(self):
        return self.env["crm.exchange.log"]._action_for_documents(self)

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
