from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import index_exists


class AccountPayment(models.Model):
    _inherit = "account.payment"

    crm_onec_ref = fields.Char(
        string="1C Reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Reference of the incoming payment in 1C: applied once, unique per company.",
    )
    crm_onec_document_id = fields.Many2one(
        "account.move",
        string="1C Settled Document",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The invoice or credit note this payment from 1C names: matched with it again when 1C "
        "posts the document again after unposting it.",
    )

    def init(self):
        result = super().init()
        # one document (payment) per 1C reference and company
        if not index_exists(self.env.cr, "account_payment_crm_onec_ref_uniq"):
            self.env.cr.execute(
                SQL(
                    "CREATE UNIQUE INDEX %s ON %s (company_id, crm_onec_ref) WHERE crm_onec_ref IS NOT NULL",
                    SQL.identifier("account_payment_crm_onec_ref_uniq"),
                    SQL.identifier(self._table),
                )
            )
        return result
