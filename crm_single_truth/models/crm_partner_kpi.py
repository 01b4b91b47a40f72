from odoo import api, fields, models
from odoo.tools import SQL, create_index

PENDING_KEY = "crm_single_truth.kpi_pending_partners"


class CrmPartnerKpi(models.Model):
    """Indexed aggregate of a commercial partner's purchase and payment history, per company.

    One row per (commercial partner, company), rebuilt by set-based SQL when a document that
    feeds it changes (deferred to the end of the transaction), so that reading the KPIs of a
    customer is one index lookup whatever the size of its history.
    """

    _name = "crm.partner.kpi"
    _description = "Customer KPI Aggregate"
    _order = "ltv desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    ltv = fields.Monetary(string="Lifetime Value", readonly=True)
    order_count = fields.Integer(string="Purchases", readonly=True)
    first_order_date = fields.Date(string="First Purchase", readonly=True)
    last_order_date = fields.Date(string="Last Purchase", readonly=True)
    paid_amount = fields.Monetary(string="Paid Invoices Amount", readonly=True)
    avg_payment_delay = fields.Float(string="Average Payment Delay (days)", digits=(16, 2), readonly=True)

    _sql_constraints = [
        ("partner_company_uniq", "unique(partner_id, company_id)", "One KPI row per customer and company."),
    ]

    def init(self):
        # the aggregate is rebuilt per customer: find a customer's documents by index
        create_index(
            self.env.cr,
            "crm_account_move_customer_idx",
            "account_move",
            ["commercial_partner_id", "company_id"],
            where="move_type IN ('out_invoice', 'out_refund')",
        )
        # debt is read live from the open receivable items, a small indexed subset: lines of
        # accounts that are not reconcilable are never "reconciled" but always have no residual
        self.env.cr.execute("DROP INDEX IF EXISTS crm_account_move_line_open_idx")
        create_index(
            self.env.cr,
            "crm_account_move_line_open_residual_idx",
            "account_move_line",
            ["partner_id", "company_id"],
            where="reconciled IS NOT TRUE AND parent_state = 'posted' AND amount_residual != 0",
        )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # read your own writes: documents changed in this transaction are counted
        self._crm_refresh_pending()
        return super()._search(domain, offset=offset, limit=limit, order=order)

    # ------------------------------------------------------------------ refresh
    @api.model
    def _crm_mark_dirty(self, partners):
        """Schedule the refresh of the commercial entities of ``partners`` for the end of the
        transaction (or the next read of a KPI in this transaction)."""
        ids = {pid for pid in partners.commercial_partner_id.ids if pid}
        if not ids:
            return
        # KPI fields are computed, not stored: forget what this transaction has read
        self.env["res.partner"].invalidate_model(self.env["res.partner"]._crm_kpi_fnames())
        data = self.env.cr.precommit.data
        if PENDING_KEY not in data:
            data[PENDING_KEY] = set()
            self.env.cr.precommit.add(self.sudo()._crm_refresh_pending)
        data[PENDING_KEY].update(ids)

    @api.model
    def _crm_refresh_pending(self):
        pending = self.env.cr.precommit.data.pop(PENDING_KEY, None)
        if pending:
            self._crm_refresh(list(pending))

    @api.model
    def _crm_purchase_sql(self, partner_ids=None, date_from=None, date_to=None):
        """Query of (pid, company_id, ltv, order_count, first_day, last_day) per commercial
        partner and company: LTV from posted customer invoices and credit notes, purchases from
        confirmed sale orders plus posted invoices linked to no sale order."""
        ids = sorted(partner_ids) if partner_ids is not None else None
        move_scope = SQL("TRUE") if ids is None else SQL("m.commercial_partner_id = ANY(%s)", ids)
        sale_scope = SQL("TRUE") if ids is None else SQL("p.commercial_partner_id = ANY(%s)", ids)
        move_period = SQL("TRUE")
        sale_period = SQL("TRUE")
        if date_from:
            move_period = SQL("%s AND m.invoice_date >= %s", move_period, date_from)
            sale_period = SQL("%s AND so.date_order::date >= %s", sale_period, date_from)
        if date_to:
            move_period = SQL("%s AND m.invoice_date <= %s", move_period, date_to)
            sale_period = SQL("%s AND so.date_order::date <= %s", sale_period, date_to)
        return SQL(
            """
            WITH invoices AS (
                SELECT m.commercial_partner_id AS pid, m.company_id, SUM(m.amount_total_signed) AS ltv
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                   AND %(move_scope)s AND %(move_period)s
                 GROUP BY 1, 2
            ), purchases AS (
                SELECT p.commercial_partner_id AS pid, so.company_id, so.date_order::date AS day
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND %(sale_scope)s AND %(sale_period)s
                UNION ALL
                SELECT m.commercial_partner_id, m.company_id, m.invoice_date
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                   AND %(move_scope)s AND %(move_period)s
                   AND NOT EXISTS (
                        SELECT 1
                          FROM account_move_line l
                          JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = l.id
                         WHERE l.move_id = m.id)
            ), orders AS (
                SELECT pid, company_id, COUNT(*) AS order_count, MIN(day) AS first_day, MAX(day) AS last_day
                  FROM purchases
                 GROUP BY 1, 2
            )
            SELECT COALESCE(i.pid, o.pid) AS pid, COALESCE(i.company_id, o.company_id) AS company_id,
                   COALESCE(i.ltv, 0) AS ltv, COALESCE(o.order_count, 0) AS order_count,
                   o.first_day, o.last_day
              FROM invoices i
              FULL JOIN orders o ON o.pid = i.pid AND o.company_id = i.company_id
            """,
            move_scope=move_scope,
            sale_scope=sale_scope,
            move_period=move_period,
            sale_period=sale_period,
        )

    @api.model
    @api.model
    def _crm_settled_day_sql(self):
        """Sub-select of the day invoice ``m`` was settled: the last reconciliation of its
        receivable lines. The payment rating and the discipline history both date payments so."""
        return SQL(
            """(
                SELECT MAX(apr.max_date) AS day
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                 WHERE l.move_id = m.id AND a.account_type = 'asset_receivable'
            )"""
        )

    def _crm_refresh(self, partner_ids=None):
        """Rebuild the aggregate of the given commercial partners (all when None) in one pass."""
        self.env.flush_all()
        ids = sorted(partner_ids) if partner_ids is not None else None
        move_scope = SQL("TRUE") if ids is None else SQL("m.commercial_partner_id = ANY(%s)", ids)
        # rows of customers whose documents all disappeared (cancelled, reset) must go too
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_partner_kpi WHERE %s",
                SQL("TRUE") if ids is None else SQL("partner_id = ANY(%s)", ids),
            )
        )
        self.env.cr.execute(
            SQL(
                """
            WITH stats AS (%(purchases)s),
            paid AS (
                -- amount-weighted days from the due date to the full payment, paid invoices
                SELECT m.commercial_partner_id AS pid, m.company_id,
                       SUM(m.amount_total_signed) AS paid_amount,
                       SUM(m.amount_total_signed
                           * GREATEST(0, settled.day - COALESCE(m.invoice_date_due, m.invoice_date)))
                         / NULLIF(SUM(m.amount_total_signed), 0) AS delay
                  FROM account_move m
                  JOIN LATERAL %(settled)s settled ON settled.day IS NOT NULL
                 WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                   AND m.payment_state IN ('paid', 'in_payment') AND %(move_scope)s
                 GROUP BY 1, 2
            )
            INSERT INTO crm_partner_kpi (
                partner_id, company_id, ltv, order_count, first_order_date, last_order_date,
                paid_amount, avg_payment_delay, create_uid, create_date, write_uid, write_date)
            SELECT s.pid, s.company_id, s.ltv, s.order_count, s.first_day, s.last_day,
                   COALESCE(pd.paid_amount, 0), COALESCE(pd.delay, 0),
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM stats s
              LEFT JOIN paid pd ON pd.pid = s.pid AND pd.company_id = s.company_id
             WHERE s.pid IS NOT NULL
            ON CONFLICT (partner_id, company_id) DO UPDATE SET
                ltv = EXCLUDED.ltv, order_count = EXCLUDED.order_count,
                first_order_date = EXCLUDED.first_order_date, last_order_date = EXCLUDED.last_order_date,
                paid_amount = EXCLUDED.paid_amount, avg_payment_delay = EXCLUDED.avg_payment_delay,
                write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
            """,
                purchases=self._crm_purchase_sql(ids),
                move_scope=move_scope,
                settled=self._crm_settled_day_sql(),
                uid=self.env.uid,
            )
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model()

    @api.model
    def _cron_rebuild(self):
        """Nightly safety net: rebuild the whole aggregate from the documents."""
        self._crm_refresh()
