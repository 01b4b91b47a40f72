from odoo import api, models
from odoo.tools import SQL

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.anomaly.mixin"]

    def _post(self, soft=True):
        # an invoice of a sale order was judged when the order was confirmed
        candidates = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "draft" and not m.line_ids.sale_line_ids
        )
        Kpi = self.env["crm.partner.kpi"].sudo()
        # each judged against its customer's stored history before this posting: read by the
        # statement that adds the posting to it, unless other changes wait in the transaction
        stored = {}
        if candidates and Kpi._crm_has_pending():
            stored = {move.id: Kpi._crm_stored_kpis(move.partner_id, move.company_id) for move in candidates}
        posted = super()._post(soft=soft)
        if candidates and not stored:
            keys = {move.id: (move.partner_id.commercial_partner_id.id, move.company_id.id) for move in candidates}
            by_customer = Kpi._crm_apply_pending(read=list(keys.values()))
            stored = {move_id: by_customer[key] for move_id, key in keys.items()}
        warnings = {
            move.id: self._crm_anomaly_check(
                move.partner_id,
                abs(move.amount_total_signed),
                move.company_id,
                move.invoice_user_id or move.partner_id.user_id,
                stored=stored[move.id],
            )
            for move in candidates
        }
        for move in posted.filtered(lambda m: warnings.get(m.id)):
            move._crm_anomaly_flag(warnings[move.id], move.invoice_user_id or move.partner_id.user_id)
        return posted

    @api.model
    def _crm_kpi_tracked_fields(self):
        """Fields whose change alters what a customer document contributes to the KPIs."""
        return {"state", "partner_id", "invoice_date", "invoice_date_due", "company_id", "move_type"}

    @api.model
    def _crm_payment_history_sql(self, move):
        """Condition on the paid invoice ``move`` (an SQL alias) for its payment to count in the
        payment history (the rating of the card; crm_receivables' discipline history uses it too).
        crm_receivables leaves out the bad debts written off."""
        return SQL("TRUE")

    @api.model
    def _crm_payment_state_columns(self, move, payment_state):
        """Stored columns that follow from an invoice's payment state, as ``{field name: SQL}`` over
        the row ``move`` (an SQL alias) and its new ``payment_state`` (SQL): what a set-based writer
        that settles invoices (crm_exchange_log's 1C payments) sets in the same statement instead of
        the ORM recomputing them afterwards. Each module that stores such a field adds it here."""
        return {}

    def _crm_kpi_touch(self):
        customer = self.filtered(lambda m: m.move_type in CUSTOMER_MOVE_TYPES)
        if customer:
            # a move that is not posted contributes nothing: no need to read it (posting costs less)
            posted = customer.filtered(lambda m: m.state == "posted")
            Kpi = self.env["crm.partner.kpi"]
            Kpi._crm_touch(self._name, (customer - posted).ids, new=True)
            Kpi._crm_touch(self._name, posted.ids)

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        # created posted (imports): nothing was counted before
        posted = moves.filtered(lambda m: m.state == "posted" and m.move_type in CUSTOMER_MOVE_TYPES)
        if posted:
            self.env["crm.partner.kpi"]._crm_touch(self._name, posted.ids, new=True)
        return moves

    def write(self, vals):
        if self._crm_kpi_tracked_fields() & set(vals):
            self._crm_kpi_touch()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _crm_unlink_kpi_touch(self):
        self._crm_kpi_touch()
