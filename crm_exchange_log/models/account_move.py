from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import index_exists

from .crm_onec_connector import ONEC_JOURNAL_CODE


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.exchange.consumer.mixin"]

    crm_onec_ref = fields.Char(
        string="1C Reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Reference (Ссылка) of the document in 1C: unique per company.",
    )

    def init(self):
        result = super().init()
        # one document (payment) per 1C reference and company
        if not index_exists(self.env.cr, "account_move_crm_onec_ref_uniq"):
            self.env.cr.execute(
                SQL(
                    "CREATE UNIQUE INDEX %s ON %s (company_id, crm_onec_ref) WHERE crm_onec_ref IS NOT NULL",
                    SQL.identifier("account_move_crm_onec_ref_uniq"),
                    SQL.identifier(self._table),
                )
            )
        return result

    def _crm_exchange_handlers(self):
        return super()._crm_exchange_handlers() | {"_crm_onec_push"}

    def action_onec_push(self):
        """Send posted customer invoices and credit notes to 1C (integrators only); the exchange is
        journaled whatever happens. Drafts, cancelled documents and other entries are refused."""
        return self.env["crm.onec.connector"]._action_push(self, "push_invoice")

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # documents made in 1C (mirrored in its journal) never go back to 1C
        invoices = posted.filtered(
            lambda move: move.move_type in ("out_invoice", "out_refund") and not move._crm_is_from_onec()
        )
        if invoices and self.env["crm.onec.connector"]._auto_push_enabled():
            self.env["crm.onec.connector"]._enqueue_push(invoices, "push_invoice")
        return posted

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        deferred = self.env.context.get("crm_onec_deferred_followers")
        if deferred is not None and partner_ids and not subtype_ids:
            # a chunk of documents from 1C: the customers subscribed all at once after the posting
            deferred.extend((move.id, partner_id) for move in self for partner_id in partner_ids)
            return True
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)

    def _crm_is_from_onec(self):
        self.ensure_one()
        return self.journal_id.code == ONEC_JOURNAL_CODE

    def _crm_onec_push(self, log):
        return self.env["crm.onec.connector"]._send(self, log)
