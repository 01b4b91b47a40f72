from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._crm_installment_allocate()
        partials._crm_resync_invoice_penalties()
        return partials

    @api.ondelete(at_uninstall=False)
    def _crm_installment_unreconcile(self):
        """A payment unreconciled from the invoice of a plan (reversed, reset to draft): the
        installment payment is cancelled and the lines it paid reopen."""
        payments = (
            self.env["crm.installment.payment"]
            .sudo()
            .search([("partial_id", "in", self.ids), ("state", "=", "posted")])
        )
        payments.action_cancel()
        moves = self.debit_move_id.move_id.filtered("crm_penalty_date_ref")
        if moves:
            # the penalties as if this reconciliation had never been
            self.env["crm.installment.penalty"].sudo()._sync_sources(moves=moves, exclude_partial_ids=self.ids)

    def _crm_installment_allocate(self):
        """Payments reconciled with the invoice of an active plan (or with an invoice of the sale
        order of a plan without an invoice) are allocated to its lines."""
        Payment = self.env["crm.installment.payment"].sudo()
        invoices = self.debit_move_id.move_id.filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            return
        plan_by_invoice = invoices.sudo()._crm_active_plan_by_invoice()
        if not plan_by_invoice:
            return
        known = set(Payment.search([("partial_id", "in", self.ids)]).partial_id.ids)
        vals_list = []
        for partial in self:
            plan = plan_by_invoice.get(partial.debit_move_id.move_id.id)
            if not plan or partial.id in known or partial.debit_move_id.account_id.account_type != "asset_receivable":
                continue
            credit_move = partial.credit_move_id.move_id
            vals_list.append(
                {
                    "plan_id": plan.id,
                    "amount": partial.debit_amount_currency,
                    "date": partial.credit_move_id.date,
                    "partial_id": partial.id,
                    "move_id": credit_move.id,
                    "memo": credit_move.name,
                }
            )
        if vals_list:
            Payment.create(vals_list)

    def _crm_resync_invoice_penalties(self):
        moves = self.debit_move_id.move_id.filtered("crm_penalty_date_ref")
        if moves:
            moves._crm_sync_penalties()
