import logging

import psycopg2.errors
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
UNUSUAL_DELAY_ACTIVITY = "crm_receivables.mail_activity_type_unusual_delay"
MIN_HISTORY = 3  # paid invoices before a customer's habits are judged
RECENT_MONTHS = 6
TREND_TOLERANCE = 1.0  # days of average delay within which the trend is stable
BATCH = 500


def delay_trend(recent_delay, previous_delay, tolerance=TREND_TOLERANCE):
    """``better``, ``worse`` or ``stable``: the average delay of the last months against the one
    before; ``none`` when either period has no paid invoice."""
    if recent_delay is None or previous_delay is None:
        return "none"
    if recent_delay > previous_delay + tolerance:
        return "worse"
    if recent_delay < previous_delay - tolerance:
        return "better"
    return "stable"


def is_unusual_delay(days_overdue, usual_delay, paid_count, margin, min_history=MIN_HISTORY):
    """An open invoice is unusually late when the customer has a history and the invoice is
    overdue by more than the customer's usual delay plus the margin."""
    return paid_count >= min_history and days_overdue > usual_delay + margin


class CrmPaymentDiscipline(models.Model):
    """One row per paid customer invoice: due date, paid date (last reconciliation), days late."""

    _name = "crm.payment.discipline"
    _description = "Payment Discipline"
    _auto = False
    _order = "date_paid desc, id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    invoice_date = fields.Date(readonly=True)
    date_due = fields.Date(string="Due Date", readonly=True)
    date_paid = fields.Date(string="Paid On", readonly=True)
    days_late = fields.Integer(
        readonly=True, aggregator="max", help="Days from the due date to the full payment; 0 when paid on time."
    )
    amount = fields.Monetary(readonly=True, help="Invoice total in company currency.")
    weighted_days = fields.Float(
        readonly=True, help="Amount times days late: the sum divided by the amount is the weighted delay."
    )
    is_on_time = fields.Boolean(string="On Time", readonly=True)

    @property
    def _table_query(self):
        self.env.flush_all()
        return SQL(
            """
            SELECT m.id, m.id AS move_id, m.commercial_partner_id AS partner_id, p.user_id, m.company_id,
                   c.currency_id, m.invoice_date, due.day AS date_due, settled.day AS date_paid,
                   GREATEST(0, settled.day - due.day) AS days_late,
                   m.amount_total_signed AS amount,
                   m.amount_total_signed * GREATEST(0, settled.day - due.day) AS weighted_days,
                   settled.day <= due.day AS is_on_time
              FROM account_move m
              JOIN res_partner p ON p.id = m.commercial_partner_id
              JOIN res_company c ON c.id = m.company_id
              CROSS JOIN LATERAL (SELECT COALESCE(m.invoice_date_due, m.invoice_date) AS day) due
              JOIN LATERAL %(settled)s settled ON settled.day IS NOT NULL
             WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('paid', 'in_payment') AND %(not_written_off)s
            """,
            not_written_off=self._not_written_off_sql(),
            settled=self.env["crm.partner.kpi"]._crm_settled_day_sql(),
        )

    @api.model
    def _not_written_off_sql(self):
        """Invoices left out of the discipline history (bad debts written off are not payments):
        the rule of the card's payment rating (account.move._crm_payment_history_sql)."""
        return self.env["account.move"]._crm_payment_history_sql(SQL.identifier("m"))

    @api.model
    def _get_partner_stats(self, partner_ids, company_ids, today):
        """Per commercial partner: paid invoice count, on-time share (%), amount-weighted average
        delay, worst delay, and the weighted delay of the last months and of the months before."""
        self.env.flush_all()
        recent_from = today - relativedelta(months=RECENT_MONTHS)
        self.env.cr.execute(
            SQL(
                """
            SELECT d.partner_id, COUNT(*),
                   100.0 * COUNT(*) FILTER (WHERE d.is_on_time) / COUNT(*),
                   SUM(d.weighted_days) / NULLIF(SUM(d.amount), 0),
                   MAX(d.days_late),
                   SUM(d.weighted_days) FILTER (WHERE d.date_paid > %(recent_from)s)
                       / NULLIF(SUM(d.amount) FILTER (WHERE d.date_paid > %(recent_from)s), 0),
                   SUM(d.weighted_days) FILTER (WHERE d.date_paid <= %(recent_from)s)
                       / NULLIF(SUM(d.amount) FILTER (WHERE d.date_paid <= %(recent_from)s), 0)
              FROM (%(view)s) d
             WHERE d.partner_id = ANY(%(partner_ids)s) AND d.company_id = ANY(%(company_ids)s)
               AND d.date_paid <= %(today)s
             GROUP BY d.partner_id
            """,
                view=self._table_query,
                recent_from=recent_from,
                partner_ids=list(partner_ids),
                company_ids=list(company_ids),
                today=today,
            )
        )
        return {
            row[0]: {
                "count": row[1],
                "on_time_share": float(row[2]),
                "avg_delay": float(row[3] or 0.0),
                "worst_delay": row[4],
                "recent_delay": None if row[5] is None else float(row[5]),
                "previous_delay": None if row[6] is None else float(row[6]),
            }
            for row in self.env.cr.fetchall()
        }

    @api.model
    def _cron_check_unusual_delays(self, date_ref=None):
        """An activity "unusual delay" for the salesperson of each open invoice overdue by more than
        the customer's usual delay plus the margin in Settings, once per invoice."""
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        margin = int(self.env["ir.config_parameter"].sudo().get_param("crm_receivables.unusual_delay_margin", 5))
        self.env.flush_all()
        # open invoices overdue by more than the margin (a necessary condition of the rule) with
        # their customer's history; the rule itself is is_unusual_delay, applied below
        rows = self.env.execute_query(
            SQL(
                """
            WITH usual AS (
                SELECT d.partner_id, d.company_id, COUNT(*) AS paid_count,
                       SUM(d.weighted_days) / NULLIF(SUM(d.amount), 0) AS delay
                  FROM (%(view)s) d
                 WHERE d.date_paid <= %(today)s
                 GROUP BY d.partner_id, d.company_id
            )
            SELECT m.id, %(today)s::date - m.invoice_date_due, COALESCE(u.delay, 0), u.paid_count
              FROM account_move m
              JOIN usual u ON u.partner_id = m.commercial_partner_id AND u.company_id = m.company_id
             WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial') AND m.crm_unusual_delay_date IS NULL
               AND %(today)s::date - m.invoice_date_due > %(margin)s
             ORDER BY m.id
            """,
                view=self._table_query,
                today=today,
                margin=margin,
            )
        )
        unusual = [row for row in rows if is_unusual_delay(row[1], float(row[2]), row[3], margin)]
        Move = self.env["account.move"]
        # claimed by setting the invoice's flag, under the advisory lock the dunning takes too:
        # a rerun or a second worker never repeats one
        locked = set(Move._crm_try_lock([row[0] for row in unusual[:BATCH]]))
        batch = [row for row in unusual[:BATCH] if row[0] in locked]
        claimed = set()
        if batch:
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(
                        SQL(
                            """UPDATE account_move SET crm_unusual_delay_date = %s
                                WHERE id = ANY(%s) AND crm_unusual_delay_date IS NULL RETURNING id""",
                            today,
                            [row[0] for row in batch],
                        ),
                        log_exceptions=False,
                    )
                    claimed = {row[0] for row in self.env.cr.fetchall()}
            except psycopg2.errors.SerializationFailure:
                # an invoice changed by another transaction since this one began: next call
                _logger.info("Unusual delays of %s left to the next call", [row[0] for row in batch])
                batch = []
        Move.invalidate_model(["crm_unusual_delay_date"])
        for move_id, days, usual, _count in batch:
            if move_id not in claimed:
                continue
            move = Move.browse(move_id)
            move.activity_schedule(
                UNUSUAL_DELAY_ACTIVITY,
                date_deadline=today,
                summary=_(
                    "Unusual delay: %(days)s days late, usually %(usual)s", days=days, usual=round(float(usual or 0), 1)
                ),
                user_id=(move.invoice_user_id or move.commercial_partner_id.user_id or self.env.user).id,
            )
        self.env["ir.cron"]._notify_progress(done=len(claimed), remaining=len(unusual) - len(claimed))
        return Move.browse(sorted(claimed))
