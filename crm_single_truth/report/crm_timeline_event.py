from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
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
]
SOURCE_COLUMNS = (
    "source_id, partner_id, contact_id, date, kind, res_model, res_id, name, amount, state, user_id, company_id"
)
# chatter messages of the customer's documents that belong in its history
DOCUMENT_MAIL = (
    ("sale.order", "sale_order", "d.partner_id"),
    ("account.move", "account_move", "d.partner_id"),
    ("crm.lead", "crm_lead", "d.partner_id"),
)


class CrmTimelineEvent(models.Model):
    """One chronological feed of everything that happened with a customer (the company and its
    contacts): a read-only SQL view over the documents. Each row is keyed by its source (a name)
    and the id of the row in that source; addons add sources through
    :meth:`_get_timeline_sources` and their kinds with ``selection_add``."""

    _name = "crm.timeline.event"
    _description = "Customer Timeline Event"
    _auto = False
    _order = "date desc, id desc"

    source = fields.Char(readonly=True, help="Where the row comes from, e.g. sale_order.")
    source_id = fields.Integer(string="Source Row", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    contact_id = fields.Many2one("res.partner", string="Contact", readonly=True, help="Who it concerns directly.")
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
        """``{source: SQL}``; each query selects ``source_id, partner_id (the commercial entity),
        contact_id, date, kind, res_model, res_id, name, amount, state, user_id, company_id`` where
        ``source_id`` is unique within the source. Override to add sources."""
        document_mail = SQL(" UNION ALL ").join(
            SQL(
                """
                SELECT m.id, p.commercial_partner_id, p.id, m.date,
                       CASE WHEN m.message_type = 'email' THEN 'email' ELSE 'note' END,
                       m.model, m.res_id, %(name)s, NULL::numeric, NULL::varchar, %(author)s, d.company_id
                  FROM mail_message m
                  JOIN %(table)s d ON d.id = m.res_id
                  JOIN res_partner p ON p.id = %(partner)s
                 WHERE m.model = %(model)s AND %(filter)s
                """,
                name=self._mail_name_sql(),
                author=self._mail_author_sql(),
                table=SQL.identifier(table),
                partner=SQL(column),
                model=model,
                filter=self._mail_filter_sql(),
            )
            for model, table, column in DOCUMENT_MAIL
        )
        return {
            "mail_partner": SQL(
                """
                SELECT m.id, p.commercial_partner_id, p.id, m.date,
                       CASE WHEN m.message_type = 'email' THEN 'email' ELSE 'note' END,
                       m.model, m.res_id, %(name)s, NULL::numeric, NULL::varchar, %(author)s, NULL::int
                  FROM mail_message m
                  JOIN res_partner p ON p.id = m.res_id
                 WHERE m.model = 'res.partner' AND %(filter)s
                """,
                name=self._mail_name_sql(),
                author=self._mail_author_sql(),
                filter=self._mail_filter_sql(),
            ),
            "mail_document": document_mail,
            "messenger": SQL("""
                SELECT mm.id, p.commercial_partner_id, p.id, mm.date, mm.channel,
                       'crm.messenger.message', mm.id,
                       CASE WHEN mm.direction = 'out' THEN '→ ' ELSE '' END || LEFT(COALESCE(mm.body, ''), 200),
                       NULL::numeric, mm.state, mm.user_id, mm.company_id
                  FROM crm_messenger_message mm
                  JOIN res_partner p ON p.id = mm.partner_id
            """),
            "sale_order": SQL("""
                SELECT so.id, p.commercial_partner_id, p.id, so.date_order, 'order',
                       'sale.order', so.id, so.name, so.amount_total, so.state, so.user_id, so.company_id
                  FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state != 'cancel'
            """),
            "account_move": SQL("""
                SELECT m.id, m.commercial_partner_id, m.partner_id, m.invoice_date::timestamp, 'invoice',
                       'account.move', m.id, m.name, m.amount_total_signed, m.payment_state,
                       m.invoice_user_id, m.company_id
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
            """),
            "account_payment": SQL("""
                SELECT pay.id, p.commercial_partner_id, p.id, pay.date::timestamp, 'payment',
                       'account.payment', pay.id, COALESCE(pay.name, pay.memo), pay.amount_company_currency_signed,
                       pay.state, pay.create_uid, pay.company_id
                  FROM account_payment pay JOIN res_partner p ON p.id = pay.partner_id
                 WHERE pay.partner_type = 'customer' AND pay.state NOT IN ('draft', 'canceled', 'rejected')
            """),
            "crm_lead": SQL("""
                SELECT l.id, p.commercial_partner_id, p.id, COALESCE(l.date_closed, l.create_date), 'deal',
                       'crm.lead', l.id, l.name, l.expected_revenue,
                       CASE WHEN s.is_won THEN 'won'
                            WHEN NOT l.active AND l.probability = 0 THEN 'lost' ELSE 'open' END,
                       l.user_id, l.company_id
                  FROM crm_lead l
                  JOIN res_partner p ON p.id = l.partner_id
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.type = 'opportunity'
            """),
            "crm_call": SQL("""
                SELECT c.id, c.commercial_partner_id, c.partner_id, c.date, 'call',
                       'crm.call', c.id, COALESCE(NULLIF(c.summary, ''), c.phone), NULL::numeric,
                       COALESCE(c.call_status, c.direction), c.user_id, c.company_id
                  FROM crm_call c
                 WHERE c.commercial_partner_id IS NOT NULL
            """),
        }

    @api.model
    def _mail_filter_sql(self):
        """E-mails and notes written by people; messenger messages have a source of their own."""
        return SQL(
            "m.message_type IN ('email', 'comment') AND m.crm_channel IS NULL "
            "AND (m.subject IS NOT NULL OR COALESCE(m.body, '') != '')"
        )

    @api.model
    def _mail_name_sql(self):
        return SQL(
            "COALESCE(NULLIF(m.subject, ''), "
            "LEFT(BTRIM(REGEXP_REPLACE(COALESCE(m.body, ''), '(<[^>]*>|\\s)+', ' ', 'g')), 200))"
        )

    @api.model
    def _mail_author_sql(self):
        return SQL("(SELECT u.id FROM res_users u WHERE u.partner_id = m.author_id ORDER BY u.id LIMIT 1)")

    @property
    def _table_query(self):
        """The sources side by side; the row id is a bijection of (source, source_id): the
        source's rank among the sources' names interleaved with its own id, so ids stay unique
        for any number of sources and never depend on what the rows contain."""
        self.env.flush_all()
        sources = self._get_timeline_sources()
        names = sorted(sources)
        return SQL(" UNION ALL ").join(
            SQL(
                "SELECT s.source_id::bigint * %(count)s + %(rank)s AS id, %(name)s::varchar AS source, s.* "
                "FROM (%(query)s) AS s (%(columns)s)",
                count=len(names),
                rank=rank,
                name=name,
                query=sources[name],
                columns=SQL(SOURCE_COLUMNS),
            )
            for rank, name in enumerate(names)
        )

    def _as_query(self, ordered=True):
        """Reading rows by id: their keys (source, source_id) as well, conditions PostgreSQL takes
        down to each source's own index (by the id alone it would compute every row)."""
        query = super()._as_query(ordered)
        if self._ids:
            query.add_where(self._crm_key_sql(self._ids))
        return query

    @api.model
    def _crm_key_sql(self, ids):
        names = sorted(self._get_timeline_sources())
        by_source = defaultdict(list)
        for row_id in ids:
            if isinstance(row_id, int) and row_id >= 0:
                by_source[names[row_id % len(names)]].append(row_id // len(names))
        if not by_source:
            return SQL("FALSE")
        return SQL(
            "(%s)",
            SQL(" OR ").join(
                SQL(
                    "(%s = %s AND %s IN %s)",
                    SQL.identifier(self._table, "source"),
                    name,
                    SQL.identifier(self._table, "source_id"),
                    tuple(source_ids),
                )
                for name, source_ids in by_source.items()
            ),
        )

    def action_open_document(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }

    def action_reply(self):
        """Reply to a messenger row of the timeline in the same conversation."""
        self.ensure_one()
        self.check_access("read")
        if self.res_model != "crm.messenger.message":
            raise UserError(_("Only messenger messages are answered from the timeline."))
        return self.env["crm.messenger.message"].browse(self.res_id).action_reply()
