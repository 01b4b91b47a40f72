from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, MissingError
from odoo.tools import SQL, create_index

from ..tools.kpi import MEASURES, combine_contributions

# documents changed in this transaction: {(model, id): [contribution before the change]}
BEFORE_KEY = "crm_single_truth.kpi_before"
# commercial partners whose rows are rebuilt from their documents (a contact changed company)
PENDING_KEY = "crm_single_truth.kpi_pending_partners"
CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")
# an upsert adds a delta (EXCLUDED) to a monthly row / a customer row (t)
MONTH_UPDATE = SQL(
    """ltv = t.ltv + EXCLUDED.ltv,
       order_count = t.order_count + EXCLUDED.order_count,
       first_order_date = LEAST(t.first_order_date, EXCLUDED.first_order_date),
       last_order_date = GREATEST(t.last_order_date, EXCLUDED.last_order_date),
       paid_amount = t.paid_amount + EXCLUDED.paid_amount,
       paid_delay_amount = t.paid_delay_amount + EXCLUDED.paid_delay_amount,
       write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date"""
)
CUSTOMER_UPDATE = SQL(
    """%s,
       avg_payment_delay = COALESCE((t.paid_delay_amount + EXCLUDED.paid_delay_amount)
                                    / NULLIF(t.paid_amount + EXCLUDED.paid_amount, 0), 0)""",
    MONTH_UPDATE,
)


class CrmPartnerKpi(models.Model):
    """Aggregate of a commercial partner's purchase and payment history, per company.

    One row per (commercial partner, company), plus one per month in ``crm.partner.kpi.month``.
    A document that changes (an invoice posted, cancelled or paid, an order confirmed) adds the
    difference between its contribution after and before the change to both rows, in SQL
    (``x = x + delta``): the cost of a posting does not depend on the size of the history, and two
    transactions changing the same customer write the same rows, so one of them waits for the
    other and is retried by Odoo on a serialization conflict - no delta is lost. Reading the KPIs
    of a customer is one index lookup; :meth:`action_crm_rebuild` rebuilds everything from the
    documents (a repair command)."""

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
    paid_delay_amount = fields.Float(
        string="Paid Amount x Days Late",
        digits=(16, 2),
        readonly=True,
        help="Sum of the amount times the days late of paid invoices: divided by the paid amount, the average delay.",
    )
    avg_payment_delay = fields.Float(string="Average Payment Delay (days)", digits=(16, 2), readonly=True)

    _sql_constraints = [
        ("partner_company_uniq", "unique(partner_id, company_id)", "One KPI row per customer and company."),
    ]

    def init(self):
        cr = self.env.cr
        # a customer's documents of a period, found by index (edges of a period, a rebuild)
        cr.execute("DROP INDEX IF EXISTS crm_account_move_customer_idx")
        create_index(
            cr,
            "crm_account_move_customer_date_idx",
            "account_move",
            ["commercial_partner_id", "company_id", "invoice_date"],
            where="move_type IN ('out_invoice', 'out_refund')",
        )
        create_index(
            cr, "crm_sale_order_partner_date_idx", "sale_order", ["partner_id", "date_order"], where="state = 'sale'"
        )
        # debt is read live from the open receivable items, a small indexed subset: lines of
        # accounts that are not reconcilable are never "reconciled" but always have no residual;
        # the account in the key skips a customer's open lines of other accounts (the outstanding
        # receipts of its payments, as many as its history has payments not matched to a statement)
        cr.execute("DROP INDEX IF EXISTS crm_account_move_line_open_idx")
        cr.execute("DROP INDEX IF EXISTS crm_account_move_line_open_residual_idx")
        create_index(
            cr,
            "crm_account_move_line_open_account_idx",
            "account_move_line",
            ["partner_id", "account_id"],
            where="reconciled IS NOT TRUE AND parent_state = 'posted' AND amount_residual != 0",
        )
        # search and order by lifetime value in one company (crm_ltv > 500000)
        create_index(cr, "crm_partner_kpi_company_ltv_idx", self._table, ["company_id", "ltv"])

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # read your own writes: documents changed in this transaction are counted
        self._crm_apply_pending()
        return super()._search(domain, offset=offset, limit=limit, order=order)

    # ------------------------------------------------------------------ contributions
    @api.model
    def _crm_move_contribution_sql(self, move_ids):
        """What each posted customer invoice or credit note of ``move_ids`` adds to its customer's
        rows: (doc_id, pid, company_id, month, ltv, order_count, day, paid_amount, paid_delay_amount),
        amounts as text (exact)."""
        paid = SQL(
            "m.move_type = 'out_invoice' AND m.payment_state IN ('paid', 'in_payment') "
            "AND settled.day IS NOT NULL AND %s",
            self.env["account.move"]._crm_payment_history_sql(SQL.identifier("m")),
        )
        return SQL(
            """
            SELECT m.id, m.commercial_partner_id, m.company_id, date_trunc('month', m.invoice_date)::date,
                   m.amount_total_signed::text,
                   purchase.yes::int,
                   CASE WHEN purchase.yes THEN m.invoice_date END,
                   (CASE WHEN %(paid)s THEN m.amount_total_signed ELSE 0 END)::text,
                   (CASE WHEN %(paid)s THEN m.amount_total_signed
                         * GREATEST(0, settled.day - COALESCE(m.invoice_date_due, m.invoice_date)) ELSE 0 END)::text
              FROM account_move m
              LEFT JOIN LATERAL %(settled)s settled ON TRUE
              CROSS JOIN LATERAL (
                   SELECT m.move_type = 'out_invoice' AND NOT EXISTS (
                          SELECT 1
                            FROM account_move_line l
                            JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = l.id
                           WHERE l.move_id = m.id) AS yes
                   OFFSET 0  -- one sub-plan, not one per use of purchase.yes (planned in half the time)
              ) purchase
             WHERE m.id = ANY(%(ids)s) AND m.state = 'posted' AND m.move_type IN %(types)s
               AND m.commercial_partner_id IS NOT NULL AND m.invoice_date IS NOT NULL
            """,
            paid=paid,
            settled=self._crm_settled_day_sql(),
            ids=list(move_ids),
            types=CUSTOMER_MOVE_TYPES,
        )

    @api.model
    def _crm_order_contribution_sql(self, order_ids):
        """What each confirmed sale order of ``order_ids`` adds: one purchase on its date."""
        return SQL(
            """
            SELECT so.id, p.commercial_partner_id, so.company_id, date_trunc('month', so.date_order)::date,
                   '0', 1, so.date_order::date, '0', '0'
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
             WHERE so.id = ANY(%s) AND so.state = 'sale'
            """,
            list(order_ids),
        )

    @api.model
    def _crm_contribution_sql(self, model, ids):
        if model == "account.move":
            return self._crm_move_contribution_sql(ids)
        if model == "sale.order":
            return self._crm_order_contribution_sql(ids)
        raise ValueError(model)

    @api.model
    def _crm_contributions(self, model, ids):
        """``[(doc_id, key, values, day)]`` of the documents ``ids`` of ``model`` as the database
        holds them now (the caller flushed); ``key`` = (partner, company, month)."""
        rows = []
        for doc_id, pid, company_id, month, ltv, count, day, paid, paid_delay in self.env.execute_query(
            self._crm_contribution_sql(model, ids)
        ):
            values = {
                "ltv": Decimal(ltv),
                "order_count": count,
                "paid_amount": Decimal(paid),
                "paid_delay_amount": Decimal(paid_delay),
            }
            rows.append((doc_id, (pid, company_id, month), values, day))
        return rows

    # ------------------------------------------------------------------ changes of documents
    @api.model
    def _crm_pending(self):
        data = self.env.cr.precommit.data
        if BEFORE_KEY not in data:
            data[BEFORE_KEY] = {}
            data.setdefault(PENDING_KEY, set())
            self.env.cr.precommit.add(self.sudo()._crm_apply_pending)
        return data[BEFORE_KEY]

    @api.model
    def _crm_touch(self, model, ids, new=False):
        """Documents ``ids`` of ``model`` are about to change: remember what they contribute now
        (the first time in the transaction), so that the difference is applied later. ``new``:
        records just created, which contributed nothing."""
        pending = self._crm_pending()
        todo = [doc_id for doc_id in ids if doc_id and (model, doc_id) not in pending]
        if not todo:
            return
        self.env["res.partner"].invalidate_model(self.env["res.partner"]._crm_kpi_fnames())
        for doc_id in todo:
            pending[(model, doc_id)] = []
        if new:
            return
        self.env.flush_all()
        for doc_id, key, values, day in self._crm_contributions(model, todo):
            pending[(model, doc_id)].append((key, values, day))

    @api.model
    def _crm_mark_dirty(self, partners):
        """Rebuild the rows of the commercial entities of ``partners`` from their documents at the
        end of the transaction (or the next read of a KPI): a contact moved to another company."""
        ids = {pid for pid in partners.commercial_partner_id.ids if pid}
        if not ids:
            return
        self._crm_pending()
        self.env["res.partner"].invalidate_model(self.env["res.partner"]._crm_kpi_fnames())
        self.env.cr.precommit.data[PENDING_KEY].update(ids)

    @api.model
    def _crm_has_pending(self):
        data = self.env.cr.precommit.data
        return bool(data.get(BEFORE_KEY) or data.get(PENDING_KEY))

    @api.model
    def _crm_apply_pending(self, read=None):
        """Apply the deltas of the documents changed so far in this transaction. ``read``: pairs
        (partner, company) whose stored LTV and purchase count before these deltas are returned
        (see :meth:`_crm_stored_kpis`), in the statement of the deltas when only new documents
        are pending (a posting: one query)."""
        data = self.env.cr.precommit.data
        before = data.get(BEFORE_KEY)
        dirty = data.get(PENDING_KEY)
        if not before and not dirty:
            return self._crm_read_stored(read) if read else None
        self.env.flush_all()
        stored = None
        if read and (dirty or any((before or {}).values())):
            stored = self._crm_read_stored(read)  # before anything else is applied
        if before:
            items = dict(before)
            before.clear()
            by_model = {}
            for model, doc_id in items:
                by_model.setdefault(model, []).append(doc_id)
            old_rows = [row for rows in items.values() for row in rows]
            if old_rows:
                new_rows = []
                for model, ids in by_model.items():
                    new_rows += [(key, values, day) for _doc, key, values, day in self._crm_contributions(model, ids)]
                self._crm_apply_deltas(combine_contributions(old_rows, new_rows))
            else:
                applied = self._crm_apply_new(by_model, read=read if stored is None else None)
                stored = applied if stored is None else stored
        if dirty:
            ids = sorted(dirty)
            dirty.clear()
            self._crm_rebuild(ids)
        self.invalidate_model()
        self.env["crm.partner.kpi.month"].invalidate_model()
        self.env["res.partner"].invalidate_model(self.env["res.partner"]._crm_kpi_fnames())
        return stored

    @api.model
    def _crm_apply_new(self, by_model, read=None):
        """Add what documents that contributed nothing before (``{model: ids}``: invoices just
        posted, orders just confirmed) contribute now, in one statement: the contributions read
        and added to the monthly and customer rows (:meth:`_crm_apply_deltas` with nothing to
        subtract, which a posting always is). ``read``: as :meth:`_crm_apply_pending`, read by the
        same statement, whose snapshot does not see its own writes: the rows before the deltas."""
        known = self._crm_posted_contributions(by_model)
        if known is None:
            contributions = SQL(" UNION ALL ").join(
                SQL("SELECT * FROM (%s) c", self._crm_contribution_sql(model, sorted(ids)))
                for model, ids in sorted(by_model.items())
            )
            deltas = SQL(
                """c(doc_id, pid, cid, month, ltv, cnt, day, paid, delay) AS MATERIALIZED (%s),
            d AS (
                SELECT c.pid, c.cid, c.month, SUM(c.ltv::numeric) AS ltv, SUM(c.cnt)::int AS cnt,
                       MIN(c.day) AS first, MAX(c.day) AS last, SUM(c.paid::numeric) AS paid,
                       SUM(c.delay::numeric) AS delay, COUNT(c.day) AS days
                  FROM c
                  JOIN res_partner p ON p.id = c.pid  -- a customer deleted in the transaction has no rows
                 GROUP BY c.pid, c.cid, c.month
                HAVING COUNT(c.day) > 0 OR SUM(c.ltv::numeric) != 0 OR SUM(c.cnt) != 0
                    OR SUM(c.paid::numeric) != 0 OR SUM(c.delay::numeric) != 0""",
                contributions,
            )
        else:
            changes = combine_contributions([], known)
            keys = sorted(changes)

            def column(getter):
                return [getter(changes[key], key) for key in keys]

            deltas = SQL(
                """d AS (
                SELECT d.* FROM unnest(%s::int[], %s::int[], %s::date[], %s::numeric[], %s::int[], %s::date[],
                                       %s::date[], %s::numeric[], %s::numeric[], %s::int[])
                                AS d(pid, cid, month, ltv, cnt, first, last, paid, delay, days)
                  JOIN res_partner p ON p.id = d.pid  -- a customer deleted in the transaction has no rows""",
                column(lambda change, key: key[0]),
                column(lambda change, key: key[1]),
                column(lambda change, key: key[2]),
                column(lambda change, key: change[0]["ltv"]),
                column(lambda change, key: int(change[0]["order_count"])),
                column(lambda change, key: min(change[1], default=None)),
                column(lambda change, key: max(change[1], default=None)),
                column(lambda change, key: change[0]["paid_amount"]),
                column(lambda change, key: change[0]["paid_delay_amount"]),
                column(lambda change, key: len(change[1])),
            )
        rows = self.env.execute_query(
            SQL(
                """
            WITH %(deltas)s
            ), months AS (
                INSERT INTO crm_partner_kpi_month AS t (
                    partner_id, company_id, month, ltv, order_count, first_order_date, last_order_date,
                    paid_amount, paid_delay_amount, create_uid, create_date, write_uid, write_date)
                SELECT d.pid, d.cid, d.month, d.ltv, d.cnt, d.first, d.last, d.paid, d.delay,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM d
                 ORDER BY d.pid, d.cid, d.month  -- always the same order: two writers never deadlock
                ON CONFLICT (partner_id, company_id, month) DO UPDATE SET %(month_update)s
                RETURNING 1
            ), customers AS (
                -- after the months (reading their result), as _crm_apply_deltas locks them
                INSERT INTO crm_partner_kpi AS t (
                    partner_id, company_id, ltv, order_count, first_order_date, last_order_date,
                    paid_amount, paid_delay_amount, avg_payment_delay, create_uid, create_date, write_uid, write_date)
                SELECT d.pid, d.cid, SUM(d.ltv), SUM(d.cnt), MIN(d.first), MAX(d.last), SUM(d.paid), SUM(d.delay),
                       COALESCE(SUM(d.delay) / NULLIF(SUM(d.paid), 0), 0), %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM d, (SELECT COUNT(*) FROM months) months_done
                 GROUP BY d.pid, d.cid
                 ORDER BY d.pid, d.cid
                ON CONFLICT (partner_id, company_id) DO UPDATE SET %(customer_update)s
            )
            SELECT d.pid, d.cid, d.month, d.days, NULL::int, NULL::numeric, NULL::bigint FROM d
            %(read)s
            """,
                deltas=deltas,
                read=SQL("UNION ALL %s", self._crm_stored_sql(read)) if read else SQL(),
                uid=self.env.uid,
                now=fields.Datetime.now(),
                month_update=MONTH_UPDATE,
                customer_update=CUSTOMER_UPDATE,
            )
        )
        stored = {read[index]: (ltv, count) for *_delta, index, ltv, count in rows if index is not None}
        rows = [row[:4] for row in rows if row[4] is None]
        # a row may have been emptied (a credit note of an order's invoice): as in _crm_apply_deltas
        if any(not days for _pid, _cid, _month, days in rows):
            self._crm_delete_empty([(pid, cid, month) for pid, cid, month, _days in rows])
        return stored if read else None

    @api.model
    def _crm_posted_contributions(self, by_model):
        """What the invoices of ``by_model`` just posted contribute (as _crm_move_contribution_sql
        reads it: ``[(key, values, day)]``), from the values the posting holds in memory (_post
        read them: no query); None when they are not all unpaid invoices and credit notes (a paid
        invoice's settlement day, an order: read in SQL)."""
        if set(by_model) != {"account.move"}:
            return None
        rows = []
        try:
            for move in self.env["account.move"].sudo().browse(by_model["account.move"]):
                if not (
                    move.state == "posted"
                    and move.move_type in CUSTOMER_MOVE_TYPES
                    and move.commercial_partner_id
                    and move.invoice_date
                ):
                    continue
                if move.move_type == "out_invoice" and move.payment_state in ("paid", "in_payment"):
                    return None
                purchase = move.move_type == "out_invoice" and not move.line_ids.sale_line_ids
                values = {
                    # the float of the cache is what was written: repr() is the column's decimal
                    "ltv": Decimal(repr(move.amount_total_signed)),
                    "order_count": int(purchase),
                    "paid_amount": Decimal(0),
                    "paid_delay_amount": Decimal(0),
                }
                key = (move.commercial_partner_id.id, move.company_id.id, move.invoice_date.replace(day=1))
                rows.append((key, values, move.invoice_date if purchase else None))
        except MissingError:  # deleted in the transaction: as the database says
            return None
        return rows

    @api.model
    def _crm_apply_deltas(self, changes):
        """Add ``changes`` (see :func:`combine_contributions`) to the monthly and customer rows."""
        if not changes:
            return
        cr = self.env.cr
        keys = sorted(changes)  # always the same order: two writers never deadlock
        now = fields.Datetime.now()

        def column(getter):
            return [getter(key) for key in keys]

        # 1. the months: measures added, purchase days widened
        cr.execute(
            SQL(
                """
            INSERT INTO crm_partner_kpi_month AS t (
                partner_id, company_id, month, ltv, order_count, first_order_date, last_order_date,
                paid_amount, paid_delay_amount, create_uid, create_date, write_uid, write_date)
            SELECT d.pid, d.cid, d.month, d.ltv, d.cnt, d.first, d.last, d.paid, d.delay,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(pids)s::int[], %(cids)s::int[], %(months)s::date[], %(ltv)s::numeric[],
                          %(cnt)s::int[], %(first)s::date[], %(last)s::date[], %(paid)s::numeric[],
                          %(delay)s::numeric[]) AS d(pid, cid, month, ltv, cnt, first, last, paid, delay)
              JOIN res_partner p ON p.id = d.pid  -- a customer deleted in the transaction has no rows
            ON CONFLICT (partner_id, company_id, month) DO UPDATE SET %(update)s
            """,
                update=MONTH_UPDATE,
                uid=self.env.uid,
                now=now,
                pids=column(lambda k: k[0]),
                cids=column(lambda k: k[1]),
                months=column(lambda k: k[2]),
                ltv=column(lambda k: changes[k][0]["ltv"]),
                cnt=column(lambda k: int(changes[k][0]["order_count"])),
                first=column(lambda k: min(changes[k][1], default=None)),
                last=column(lambda k: max(changes[k][1], default=None)),
                paid=column(lambda k: changes[k][0]["paid_amount"]),
                delay=column(lambda k: changes[k][0]["paid_delay_amount"]),
            )
        )
        # a purchase removed may have been the first or last of its month: read that month again
        removed = [key for key in keys if changes[key][2]]
        if removed:
            pids = sorted({key[0] for key in removed})
            months = [key[2] for key in removed]
            cr.execute(
                SQL(
                    """
                UPDATE crm_partner_kpi_month t
                   SET first_order_date = s.first_day, last_order_date = s.last_day
                  FROM unnest(%(pids)s::int[], %(cids)s::int[], %(months)s::date[]) AS r(pid, cid, month)
                  LEFT JOIN (%(purchases)s) s ON s.pid = r.pid AND s.company_id = r.cid AND s.month = r.month
                 WHERE t.partner_id = r.pid AND t.company_id = r.cid AND t.month = r.month
                """,
                    pids=[key[0] for key in removed],
                    cids=[key[1] for key in removed],
                    months=months,
                    purchases=self._crm_purchase_sql(
                        pids, min(months), max(months) + relativedelta(months=1) - timedelta(days=1), by_month=True
                    ),
                )
            )
        # 2. the customers: the sum of their months' deltas
        totals = {}
        for key in keys:
            deltas, added, gone = changes[key]
            entry = totals.setdefault(key[:2], ({name: Decimal(0) for name in MEASURES}, [], False))
            for name in MEASURES:
                entry[0][name] += deltas[name]
            entry[1].extend(added)
            if gone:
                totals[key[:2]] = (entry[0], entry[1], True)
        pairs = sorted(totals)
        cr.execute(
            SQL(
                """
            INSERT INTO crm_partner_kpi AS t (
                partner_id, company_id, ltv, order_count, first_order_date, last_order_date,
                paid_amount, paid_delay_amount, avg_payment_delay, create_uid, create_date, write_uid, write_date)
            SELECT d.pid, d.cid, d.ltv, d.cnt, d.first, d.last, d.paid, d.delay,
                   COALESCE(d.delay / NULLIF(d.paid, 0), 0), %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(pids)s::int[], %(cids)s::int[], %(ltv)s::numeric[], %(cnt)s::int[],
                          %(first)s::date[], %(last)s::date[], %(paid)s::numeric[], %(delay)s::numeric[])
                   AS d(pid, cid, ltv, cnt, first, last, paid, delay)
              JOIN res_partner p ON p.id = d.pid
            ON CONFLICT (partner_id, company_id) DO UPDATE SET %(update)s
            """,
                update=CUSTOMER_UPDATE,
                uid=self.env.uid,
                now=now,
                pids=[pair[0] for pair in pairs],
                cids=[pair[1] for pair in pairs],
                ltv=[totals[pair][0]["ltv"] for pair in pairs],
                cnt=[int(totals[pair][0]["order_count"]) for pair in pairs],
                first=[min(totals[pair][1], default=None) for pair in pairs],
                last=[max(totals[pair][1], default=None) for pair in pairs],
                paid=[totals[pair][0]["paid_amount"] for pair in pairs],
                delay=[totals[pair][0]["paid_delay_amount"] for pair in pairs],
            )
        )
        shrunk = [pair for pair in pairs if totals[pair][2]]
        if shrunk:
            cr.execute(
                SQL(
                    """
                UPDATE crm_partner_kpi t SET first_order_date = s.first_day, last_order_date = s.last_day
                  FROM unnest(%s::int[], %s::int[]) AS r(pid, cid)
                  LEFT JOIN LATERAL (
                       SELECT MIN(mo.first_order_date) AS first_day, MAX(mo.last_order_date) AS last_day
                         FROM crm_partner_kpi_month mo
                        WHERE mo.partner_id = r.pid AND mo.company_id = r.cid AND mo.order_count > 0
                  ) s ON TRUE
                 WHERE t.partner_id = r.pid AND t.company_id = r.cid
                """,
                    [pair[0] for pair in shrunk],
                    [pair[1] for pair in shrunk],
                )
            )
        # rows of customers whose documents all disappeared go (as a rebuild would not create them);
        # a row that just gained a purchase (posting an invoice, confirming an order) is not empty
        if all(added and not gone for _deltas, added, gone in changes.values()):
            return
        self._crm_delete_empty(keys)

    @api.model
    def _crm_delete_empty(self, keys):
        """Delete the monthly rows of ``keys`` (partner, company, month) and the customer rows of
        their (partner, company) left with nothing to count."""
        cr = self.env.cr
        pairs = sorted({key[:2] for key in keys})
        for table, key_columns, key_values in (
            ("crm_partner_kpi_month", "(partner_id, company_id, month)", sorted(keys)),
            ("crm_partner_kpi", "(partner_id, company_id)", pairs),
        ):
            cr.execute(
                SQL(
                    """DELETE FROM %s WHERE %s IN (SELECT * FROM unnest(%s::int[], %s::int[]%s))
                         AND ltv = 0 AND order_count = 0 AND paid_amount = 0 AND paid_delay_amount = 0""",
                    SQL.identifier(table),
                    SQL(key_columns),
                    [key[0] for key in key_values],
                    [key[1] for key in key_values],
                    SQL(", %s::date[]", [key[2] for key in key_values]) if table == "crm_partner_kpi_month" else SQL(),
                )
            )

    # ------------------------------------------------------------------ reading
    @api.model
    def _crm_stored_kpis(self, partner, company):
        """LTV and purchase count of the commercial entity of ``partner`` in ``company`` and its
        branches, as stored (no rebuild): the anomaly check reads this."""
        key = (partner.commercial_partner_id._origin.id, company.id)
        self._crm_apply_pending()
        return self._crm_read_stored([key])[key]

    @api.model
    def _crm_stored_sql(self, pairs):
        """Query of (NULL x 4, index, LTV, purchase count) of each pair (commercial partner id,
        company id) of ``pairs``, summed over the company and its branches."""
        Partner = self.env["res.partner"]
        keys = [
            (index, pid, cid)
            for index, (pid, company_id) in enumerate(pairs)
            for cid in Partner._crm_company_tree(company_id)
        ]
        return SQL(
            """SELECT NULL::int, NULL::int, NULL::date, NULL::bigint, r.i,
                      COALESCE(SUM(k.ltv), 0), COALESCE(SUM(k.order_count), 0)
                 FROM unnest(%s::int[], %s::int[], %s::int[]) AS r(i, pid, cid)
                 LEFT JOIN crm_partner_kpi k ON k.partner_id = r.pid AND k.company_id = r.cid
                GROUP BY r.i""",
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2] for key in keys],
        )

    @api.model
    def _crm_read_stored(self, pairs):
        """{(commercial partner id, company id): (LTV, purchase count)} as stored now."""
        pairs = list(pairs)
        rows = self.env.execute_query(self._crm_stored_sql(pairs))
        return {pairs[index]: (ltv, count) for *_null, index, ltv, count in rows}

    # ------------------------------------------------------------------ rebuild from the documents
    @api.model
    def _crm_purchase_sql(self, partner_ids=None, date_from=None, date_to=None, by_month=False):
        """Query of (pid, company_id, [month,] ltv, order_count, first_day, last_day) per commercial
        partner and company (and month of the document with ``by_month``): LTV from posted customer
        invoices and credit notes, purchases from confirmed sale orders plus posted invoices linked
        to no sale order. Reads the documents: for rebuilds and the edges of a period."""
        ids = sorted(partner_ids) if partner_ids is not None else None
        move_scope = SQL("TRUE") if ids is None else SQL("m.commercial_partner_id = ANY(%s)", ids)
        sale_scope = SQL("TRUE") if ids is None else SQL("p.commercial_partner_id = ANY(%s)", ids)
        move_period = SQL("m.invoice_date IS NOT NULL")
        sale_period = SQL("TRUE")
        if date_from:
            move_period = SQL("%s AND m.invoice_date >= %s", move_period, date_from)
            sale_period = SQL("%s AND so.date_order >= %s", sale_period, date_from)
        if date_to:
            move_period = SQL("%s AND m.invoice_date <= %s", move_period, date_to)
            sale_period = SQL("%s AND so.date_order < %s::date + 1", sale_period, date_to)
        month = SQL("date_trunc('month', day)::date") if by_month else SQL("NULL::date")
        return SQL(
            """
            WITH invoices AS (
                SELECT m.commercial_partner_id AS pid, m.company_id,
                       %(month_i)s AS month, SUM(m.amount_total_signed) AS ltv
                  FROM account_move m
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                   AND %(move_scope)s AND %(move_period)s
                 GROUP BY 1, 2, 3
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
                SELECT pid, company_id, %(month)s AS month,
                       COUNT(*) AS order_count, MIN(day) AS first_day, MAX(day) AS last_day
                  FROM purchases
                 GROUP BY 1, 2, 3
            )
            SELECT COALESCE(i.pid, o.pid) AS pid, COALESCE(i.company_id, o.company_id) AS company_id,
                   COALESCE(i.month, o.month) AS month,
                   COALESCE(i.ltv, 0) AS ltv, COALESCE(o.order_count, 0) AS order_count,
                   o.first_day, o.last_day
              FROM invoices i
              FULL JOIN orders o ON o.pid = i.pid AND o.company_id = i.company_id %(same_month)s
            """,
            same_month=SQL("AND o.month = i.month") if by_month else SQL(),
            month_i=SQL("date_trunc('month', m.invoice_date)::date") if by_month else SQL("NULL::date"),
            month=month,
            move_scope=move_scope,
            sale_scope=sale_scope,
            move_period=move_period,
            sale_period=sale_period,
        )

    @api.model
    def _crm_settled_day_sql(self):
        """Sub-select of the day invoice ``m`` was settled: the last reconciliation of its
        receivable lines. The payment rating and the discipline history both date payments so."""
        return SQL(
            """(
                SELECT MAX(apr.max_date) AS day
                  FROM (SELECT l.id, l.account_id FROM account_move_line l WHERE l.move_id = m.id
                        OFFSET 0) l  -- the document's few items first, whatever the statistics say
                  JOIN account_account a ON a.id = l.account_id
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                 WHERE a.account_type = 'asset_receivable'
            )"""
        )

    @api.model
    def _crm_paid_sql(self, partner_ids=None):
        """Per (pid, company, month of the invoice): amount and amount x days late of paid invoices
        that count in the payment history."""
        scope = SQL("TRUE") if partner_ids is None else SQL("m.commercial_partner_id = ANY(%s)", sorted(partner_ids))
        return SQL(
            """
            SELECT m.commercial_partner_id AS pid, m.company_id, date_trunc('month', m.invoice_date)::date AS month,
                   SUM(m.amount_total_signed) AS paid_amount,
                   SUM(m.amount_total_signed
                       * GREATEST(0, settled.day - COALESCE(m.invoice_date_due, m.invoice_date))) AS paid_delay_amount
              FROM account_move m
              JOIN LATERAL %(settled)s settled ON settled.day IS NOT NULL
             WHERE m.state = 'posted' AND m.move_type = 'out_invoice' AND m.invoice_date IS NOT NULL
               AND m.payment_state IN ('paid', 'in_payment') AND %(scope)s AND %(history)s
             GROUP BY 1, 2, 3
            """,
            settled=self._crm_settled_day_sql(),
            scope=scope,
            history=self.env["account.move"]._crm_payment_history_sql(SQL.identifier("m")),
        )

    def _crm_rebuild(self, partner_ids=None):
        """Rebuild the monthly and customer rows of the given commercial partners (all when None)
        from their documents, in a few set-based statements. The changes of documents remembered
        so far in the transaction are in what is rebuilt: they are not applied again at commit."""
        if partner_ids is None:
            data = self.env.cr.precommit.data
            for key in (BEFORE_KEY, PENDING_KEY):
                if data.get(key):
                    data[key].clear()
        else:
            self._crm_apply_pending()
        self.env.flush_all()
        cr = self.env.cr
        ids = sorted(partner_ids) if partner_ids is not None else None
        scope = SQL("TRUE") if ids is None else SQL("partner_id = ANY(%s)", ids)
        cr.execute(SQL("DELETE FROM crm_partner_kpi_month WHERE %s", scope))
        cr.execute(SQL("DELETE FROM crm_partner_kpi WHERE %s", scope))
        cr.execute(
            SQL(
                """
            INSERT INTO crm_partner_kpi_month (
                partner_id, company_id, month, ltv, order_count, first_order_date, last_order_date,
                paid_amount, paid_delay_amount, create_uid, create_date, write_uid, write_date)
            SELECT COALESCE(s.pid, pd.pid), COALESCE(s.company_id, pd.company_id), COALESCE(s.month, pd.month),
                   COALESCE(s.ltv, 0), COALESCE(s.order_count, 0), s.first_day, s.last_day,
                   COALESCE(pd.paid_amount, 0), COALESCE(pd.paid_delay_amount, 0),
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM (%(purchases)s) s
              FULL JOIN (%(paid)s) pd ON pd.pid = s.pid AND pd.company_id = s.company_id AND pd.month = s.month
             WHERE COALESCE(s.pid, pd.pid) IS NOT NULL
               AND NOT (COALESCE(s.ltv, 0) = 0 AND COALESCE(s.order_count, 0) = 0
                        AND COALESCE(pd.paid_amount, 0) = 0 AND COALESCE(pd.paid_delay_amount, 0) = 0)
            """,
                purchases=self._crm_purchase_sql(ids, by_month=True),
                paid=self._crm_paid_sql(ids),
                uid=self.env.uid,
            )
        )
        cr.execute(
            SQL(
                """
            INSERT INTO crm_partner_kpi (
                partner_id, company_id, ltv, order_count, first_order_date, last_order_date,
                paid_amount, paid_delay_amount, avg_payment_delay, create_uid, create_date, write_uid, write_date)
            SELECT partner_id, company_id, SUM(ltv), SUM(order_count),
                   MIN(first_order_date) FILTER (WHERE order_count > 0),
                   MAX(last_order_date) FILTER (WHERE order_count > 0),
                   SUM(paid_amount), SUM(paid_delay_amount),
                   COALESCE(SUM(paid_delay_amount) / NULLIF(SUM(paid_amount), 0), 0),
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM crm_partner_kpi_month
             WHERE %(scope)s
             GROUP BY partner_id, company_id
            HAVING NOT (SUM(ltv) = 0 AND SUM(order_count) = 0 AND SUM(paid_amount) = 0 AND SUM(paid_delay_amount) = 0)
            """,
                scope=scope,
                uid=self.env.uid,
            )
        )
        self.invalidate_model()
        self.env["crm.partner.kpi.month"].invalidate_model()
        self.env["res.partner"].invalidate_model(self.env["res.partner"]._crm_kpi_fnames())

    def _crm_refresh(self, partner_ids=None):
        """Former name of :meth:`_crm_rebuild` (kept for callers of other addons)."""
        self._crm_apply_pending()
        self._crm_rebuild(partner_ids)

    @api.model
    def action_crm_rebuild(self):
        """Repair command (administrators): rebuild every customer's rows from the documents."""
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(_("Only administrators can rebuild the customer KPIs."))
        self.sudo()._crm_refresh()
        return True

    @api.model
    def _cron_rebuild(self):
        """Safety net: rebuild the whole aggregate from the documents."""
        self._crm_refresh()
