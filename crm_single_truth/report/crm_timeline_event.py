from odoo import api, fields, models
from odoo.tools import SQL

KINDS = [
    ("email", "Email"),
    ("note", "Note"),
    ("whatsapp", "WhatsApp"),
    ("telegram", "Telegram"),
    ("call", "Call"),
    ("order", "Order"),
    ("invoice", "Invoice"),
    ("payment", "Payment"),
    ("deal", "Deal"),
    ("exchange", "Exchange"),
]


class CrmTimelineEvent(models.Model):
    """One chronological feed of everything that happened with a customer (the company and its
    contacts): a read-only SQL view over the documents; addons add sources through
    :meth:`_get_timeline_sources`."""

    _name = "crm.timeline.event"
    _description = "Customer Timeline Event"
    _auto = False
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    date = fields.Datetime(readonly=True)
    kind = fields.Selection(KINDS, readonly=True)
    res_model = fields.Char(string="Document Model", readonly=True)
    res_id = fields.Many2oneReference(string="Document", model_field="res_model", readonly=True)
    name = fields.Char(string="Description", readonly=True)
    amount = fields.Float(readonly=True, digits=(16, 2))
    state = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    @api.model
    def _get_timeline_sources(self):
        """Queries of (uid, partner_id, date, kind, res_model, res_id, name, amount, state,
        user_id, company_id); ``uid`` must be unique across sources (a document id times 16 plus
        a number of its own). Override to add sources."""
        return [
            SQL("""
                SELECT m.id::bigint * 16 + 0, p.commercial_partner_id, m.date,
                       COALESCE(m.crm_channel, CASE WHEN m.message_type = 'email' THEN 'email' ELSE 'note' END),
                       m.model, m.res_id,
                       COALESCE(NULLIF(m.subject, ''),
                                LEFT(REGEXP_REPLACE(COALESCE(m.body, ''), '<[^>]*>', ' ', 'g'), 200)),
                       NULL::numeric, NULL::varchar,
                       (SELECT u.id FROM res_users u WHERE u.partner_id = m.author_id ORDER BY u.id LIMIT 1),
                       NULL::int
                  FROM mail_message m
                  JOIN res_partner p ON p.id = m.res_id
                 WHERE m.model = 'res.partner' AND m.message_type IN ('email', 'comment')
                   AND (m.subject IS NOT NULL OR COALESCE(m.body, '') != '')
            """),
            SQL("""
                SELECT so.id::bigint * 16 + 1, p.commercial_partner_id, so.date_order, 'order',
                       'sale.order', so.id, so.name, so.amount_total, so.state, so.user_id, so.company_id
                  FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state != 'cancel'
            """),
            SQL("""
                SELECT m.id::bigint * 16 + 2, m.commercial_partner_id, m.invoice_date::timestamp, 'invoice',
                       'account.move', m.id, m.name, m.amount_total_signed, m.payment_state,
                       m.invoice_user_id, m.company_id
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
            """),
            SQL("""
                SELECT pay.id::bigint * 16 + 3, p.commercial_partner_id, pay.date::timestamp, 'payment',
                       'account.payment', pay.id, COALESCE(pay.name, pay.memo), pay.amount_company_currency_signed,
                       pay.state, pay.create_uid, pay.company_id
                  FROM account_payment pay JOIN res_partner p ON p.id = pay.partner_id
                 WHERE pay.partner_type = 'customer' AND pay.state NOT IN ('draft', 'canceled', 'rejected')
            """),
            SQL("""
                SELECT l.id::bigint * 16 + 4, p.commercial_partner_id, COALESCE(l.date_closed, l.create_date), 'deal',
                       'crm.lead', l.id, l.name, l.expected_revenue,
                       CASE WHEN s.is_won THEN 'won'
                            WHEN NOT l.active AND l.probability = 0 THEN 'lost' ELSE 'open' END,
                       l.user_id, l.company_id
                  FROM crm_lead l
                  JOIN res_partner p ON p.id = l.partner_id
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.type = 'opportunity'
            """),
            SQL("""
                SELECT c.id::bigint * 16 + 5, c.commercial_partner_id, c.date, 'call',
                       'crm.call', c.id, COALESCE(NULLIF(c.summary, ''), c.phone), NULL::numeric,
                       c.direction, c.user_id, c.company_id
                  FROM crm_call c
                 WHERE c.commercial_partner_id IS NOT NULL
            """),
        ]

    @property
    def _table_query(self):
        self.env.flush_all()
        return SQL(
            "SELECT * FROM (%s) AS events "
            "(id, partner_id, date, kind, res_model, res_id, name, amount, state, user_id, company_id)",
            SQL(" UNION ALL ").join(self._get_timeline_sources()),
        )

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }
