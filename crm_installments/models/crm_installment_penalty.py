from functools import partial

from odoo import _, api, fields, models
from odoo.tools import SQL, float_compare, float_round, format_amount, format_date, formatLang

from ..tools import penalty_segments, reconcile_penalties


class CrmInstallmentPenalty(models.Model):
    """Penalty (пени) accrued on a late installment or a late invoice for a run of days with the
    same overdue amount: amount = base × rate × days (capped by the contract).

    Money record: written only by the code (:meth:`_sync_sources`), read-only for users."""

    _name = "crm.installment.penalty"
    _description = "Late Payment Penalty"
    _order = "date_from desc, id desc"
    _rec_names_search = ["partner_id"]

    line_id = fields.Many2one(
        "crm.installment.line", string="Installment", index="btree_not_null", ondelete="cascade", readonly=True
    )
    plan_id = fields.Many2one("crm.installment.plan", index="btree_not_null", ondelete="cascade", readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Late Invoice", index="btree_not_null", ondelete="cascade", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", compute="_compute_partner", store=True, index=True)
    company_id = fields.Many2one("res.company", compute="_compute_partner", store=True, index=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_partner", store=True)
    date = fields.Date(required=True, readonly=True, help="Last day of the run.")
    date_from = fields.Date(string="From", required=True, readonly=True)
    base = fields.Monetary(string="Overdue Amount", readonly=True)
    rate = fields.Float(string="Rate (%/day)", digits=(16, 4), readonly=True)
    cap_percent = fields.Float(string="Cap (%)", digits=(16, 2), readonly=True)
    days = fields.Integer(readonly=True)
    amount = fields.Monetary(readonly=True)
    capped = fields.Boolean(readonly=True, help="The contract's cap cut this run short.")
    computation = fields.Char(compute="_compute_computation", help="How the amount was computed.")
    invoice_line_id = fields.Many2one(
        "account.move.line",
        string="Invoiced On",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    is_invoiced = fields.Boolean(compute="_compute_is_invoiced", store=True)

    @api.depends("line_id.plan_id", "move_id")
    def _compute_partner(self):
        for penalty in self:
            source = penalty.line_id.plan_id or penalty.plan_id
            if source:
                penalty.partner_id = source.commercial_partner_id
                penalty.company_id = source.company_id
                penalty.currency_id = source.currency_id
            else:
                penalty.partner_id = penalty.move_id.commercial_partner_id
                penalty.company_id = penalty.move_id.company_id
                penalty.currency_id = penalty.move_id.currency_id

    # invoiced on a line of an invoice that is not cancelled; the move of the line (its deletion)
    # is a dependency, its state not: account.move.write marks the penalties of an invoice that
    # is cancelled or leaves cancellation (a dependency on parent_state searched the penalties of
    # every invoice posted)
    @api.depends("invoice_line_id.move_id")
    def _compute_is_invoiced(self):
        for penalty in self:
            penalty.is_invoiced = bool(penalty.invoice_line_id) and penalty.invoice_line_id.parent_state != "cancel"

    @api.depends("base", "rate", "days", "amount", "capped", "cap_percent", "currency_id")
    def _compute_computation(self):
        """The text is built when it is read, in the reader's language: the accrual stores figures only."""
        for penalty in self:
            amount = format_amount(self.env, penalty.amount, penalty.currency_id)
            if not penalty.days:
                penalty.computation = _("Correction of invoiced penalties: %(amount)s", amount=amount)
                continue
            text = _(
                "%(base)s × %(rate)s%% × %(days)s d = %(amount)s",
                base=format_amount(self.env, penalty.base, penalty.currency_id),
                rate=formatLang(self.env, penalty.rate, digits=4).rstrip("0").rstrip(".,"),
                days=penalty.days,
                amount=amount,
            )
            if penalty.capped:
                text = _(
                    "%(text)s (capped at %(cap)s%% of the amount)",
                    text=text,
                    cap=formatLang(self.env, penalty.cap_percent, digits=2).rstrip("0").rstrip(".,"),
                )
            penalty.computation = text

    @api.depends("computation", "date")
    def _compute_display_name(self):
        for penalty in self:
            penalty.display_name = penalty.computation or format_date(self.env, penalty.date)

    def _period_label(self):
        self.ensure_one()
        return _(
            "%(from)s - %(to)s",
            **{"from": format_date(self.env, self.date_from), "to": format_date(self.env, self.date)},
        )

    # ------------------------------------------------------------------ the accrual engine
    @api.model
    def _sync_sources(self, lines=None, moves=None, date_ref=None, exclude_partial_ids=()):
        """Make the stored penalties of installment ``lines`` and late invoices ``moves`` equal to
        their computation up to ``date_ref`` (a date, or {company id: date} for the crons; default:
        the date each was last computed to, or its last payment), the one place where penalties
        are written.

        Set-based: the terms, payment histories and stored runs of all sources are read in three
        queries, the runs computed in one pass (:func:`penalty_segments`,
        :func:`reconcile_penalties`), then written with one DELETE, one INSERT and one UPDATE per
        table. A pure function of the payment history and of the date: a rerun writes nothing new,
        a late run catches up exactly. ``exclude_partial_ids``: reconciliations being removed,
        left out of the invoices' payment history.
        """
        lines = lines if lines is not None else self.env["crm.installment.line"]
        moves = moves if moves is not None else self.env["account.move"]
        if not lines and not moves:
            return
        self.env.flush_all()
        covered = set(moves.sudo()._crm_active_plan_by_invoice()) if moves else set()
        sources = self._read_line_sources(lines.ids) + self._read_move_sources(moves.ids, exclude_partial_ids)
        existing = self._read_existing(lines.ids, moves.ids)
        currencies = {
            currency.id: currency
            for currency in self.env["res.currency"].browse({source["currency_id"] for source in sources})
        }
        delete_ids, to_insert, line_days, move_days, line_totals, plan_ids = [], [], {}, {}, {}, set()
        for source in sources:
            day = date_ref.get(source["company_id"]) if isinstance(date_ref, dict) else date_ref
            day = day or source["day"] or max(source["payment_dates"], default=None)
            if not day:
                continue
            if source["kind"] == "move" and source["id"] in covered:
                move_days[source["id"]] = day  # its installments carry the penalties
                continue
            if source["restructured"] or not source["rate"]:
                continue
            currency = currencies[source["currency_id"]]
            round_fn = partial(float_round, precision_rounding=currency.rounding)
            compare_fn = partial(float_compare, precision_rounding=currency.rounding)
            segments = penalty_segments(
                source["date_due"],
                source["amount"],
                list(zip(source["payment_dates"], source["payment_amounts"], strict=True)),
                source["rate"],
                source["grace"],
                source["cap"],
                day,
                round_fn,
            )
            stored = existing.get((source["kind"], source["id"]), [])
            keep, delete, create, correction = reconcile_penalties(stored, segments, day, round_fn, compare_fn)
            delete_ids += delete
            base_row = (
                source["id"] if source["kind"] == "line" else None,
                source["plan_id"],
                source["id"] if source["kind"] == "move" else None,
                source["partner_id"],
                source["company_id"],
                source["currency_id"],
            )
            to_insert += [
                (
                    *base_row,
                    segment["date_from"],
                    segment["date_to"],
                    segment["base"],
                    source["rate"],
                    source["cap"],
                    segment["days"],
                    segment["amount"],
                    segment["capped"],
                )
                for segment in create
            ]
            if correction is not None:
                to_insert.append((*base_row, day, day, 0.0, source["rate"], source["cap"], 0, correction, False))
            if source["kind"] == "line":
                line_days[source["id"]] = day
                kept = set(keep)
                line_totals[source["id"]] = round_fn(
                    sum(record["amount"] for record in stored if record["invoiced"] or record["id"] in kept)
                    + sum(segment["amount"] for segment in create)
                    + (correction or 0.0)
                )
                plan_ids.add(source["plan_id"])
            else:
                move_days[source["id"]] = day
        self._write_runs(delete_ids, to_insert, line_days, move_days, line_totals, plan_ids)
        self.invalidate_model()
        self.env["crm.installment.line"].browse(line_days).invalidate_recordset(
            ["penalty_ids", "penalty_amount", "penalty_date_ref"]
        )
        self.env["crm.installment.plan"].invalidate_model(["penalty_ids", "penalty_total"])
        self.env["account.move"].browse(move_days).invalidate_recordset(
            ["crm_penalty_ids", "crm_penalty_date_ref", "crm_penalty_total"]
        )

    def _read_line_sources(self, line_ids):
        if not line_ids:
            return []
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT 'line' AS kind, line.id, line.plan_id, plan.commercial_partner_id AS partner_id,
                   plan.company_id, plan.currency_id, line.date_due, line.amount::float8 AS amount,
                   line.penalty_date_ref AS day, COALESCE(line.restructured, FALSE) AS restructured,
                   COALESCE(contract.penalty_rate, 0)::float8 AS rate,
                   COALESCE(contract.penalty_grace_days, 0) AS grace,
                   COALESCE(contract.penalty_cap_percent, 0)::float8 AS cap,
                   COALESCE(pay.dates, '{}') AS payment_dates, COALESCE(pay.amounts, '{}') AS payment_amounts
              FROM crm_installment_line line
              JOIN crm_installment_plan plan ON plan.id = line.plan_id
              LEFT JOIN crm_contract contract ON contract.id = plan.contract_id
              LEFT JOIN LATERAL (
                    SELECT array_agg(payment.date ORDER BY payment.date, alloc.id) AS dates,
                           array_agg(alloc.amount::float8 ORDER BY payment.date, alloc.id) AS amounts
                      FROM crm_installment_allocation alloc
                      JOIN crm_installment_payment payment ON payment.id = alloc.payment_id
                     WHERE alloc.line_id = line.id
                   ) pay ON TRUE
             WHERE line.id = ANY(%s)
            """,
                list(line_ids),
            )
        )
        return rows

    def _read_move_sources(self, move_ids, exclude_partial_ids=()):
        """Late invoices: their payment history is the reconciliations of their receivable
        items, dated by the paying entry, in the invoice currency."""
        if not move_ids:
            return []
        return self.env.execute_query_dict(
            SQL(
                """
            SELECT 'move' AS kind, move.id, NULL::int AS plan_id, move.commercial_partner_id AS partner_id,
                   move.company_id, move.currency_id, move.invoice_date_due AS date_due,
                   move.amount_total::float8 AS amount, move.crm_penalty_date_ref AS day, FALSE AS restructured,
                   COALESCE(contract.penalty_rate, 0)::float8 AS rate,
                   COALESCE(contract.penalty_grace_days, 0) AS grace,
                   COALESCE(contract.penalty_cap_percent, 0)::float8 AS cap,
                   COALESCE(pay.dates, '{}') AS payment_dates, COALESCE(pay.amounts, '{}') AS payment_amounts
              FROM account_move move
              LEFT JOIN crm_contract contract ON contract.id = move.crm_contract_id
              LEFT JOIN LATERAL (
                    SELECT array_agg(credit.date ORDER BY credit.date, apr.id) AS dates,
                           array_agg(apr.debit_amount_currency::float8 ORDER BY credit.date, apr.id) AS amounts
                      FROM account_move_line aml
                      JOIN account_account account ON account.id = aml.account_id
                      JOIN account_partial_reconcile apr ON apr.debit_move_id = aml.id
                      JOIN account_move_line credit ON credit.id = apr.credit_move_id
                     WHERE aml.move_id = move.id AND account.account_type = 'asset_receivable'
                       AND apr.id != ALL(%s)
                   ) pay ON TRUE
             WHERE move.id = ANY(%s)
            """,
                list(exclude_partial_ids),
                list(move_ids),
            )
        )

    def _read_existing(self, line_ids, move_ids):
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT id, line_id, move_id, date_from, date, days, base::float8 AS base, amount::float8 AS amount,
                   COALESCE(is_invoiced, FALSE) AS invoiced
              FROM crm_installment_penalty
             WHERE line_id = ANY(%s) OR move_id = ANY(%s)
             ORDER BY id
            """,
                list(line_ids),
                list(move_ids),
            )
        )
        existing = {}
        for row in rows:
            key = ("line", row["line_id"]) if row["line_id"] else ("move", row["move_id"])
            existing.setdefault(key, []).append(row)
        return existing

    def _write_runs(self, delete_ids, to_insert, line_days, move_days, line_totals=None, plan_ids=()):
        """One statement per kind of write, whatever the number of sources; rows whose values
        do not change are not rewritten."""
        cr = self.env.cr
        if delete_ids:
            cr.execute(SQL("DELETE FROM crm_installment_penalty WHERE id = ANY(%s)", delete_ids))
        if to_insert:
            columns = list(zip(*to_insert, strict=True))
            cr.execute(
                SQL(
                    """
                INSERT INTO crm_installment_penalty (line_id, plan_id, move_id, partner_id, company_id, currency_id,
                                                     date_from, date, base, rate, cap_percent, days, amount, capped,
                                                     is_invoiced, create_uid, create_date, write_uid, write_date)
                SELECT line_id, plan_id, move_id, partner_id, company_id, currency_id, date_from, date_to, base,
                       rate, cap_percent, days, amount, capped, FALSE, %s, NOW() AT TIME ZONE 'UTC', %s,
                       NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::int[], %s::int[], %s::date[],
                              %s::date[], %s::numeric[], %s::float8[], %s::float8[], %s::int[], %s::numeric[],
                              %s::bool[])
                    AS v(line_id, plan_id, move_id, partner_id, company_id, currency_id, date_from, date_to, base,
                         rate, cap_percent, days, amount, capped)
                """,
                    self.env.uid,
                    self.env.uid,
                    *[list(column) for column in columns],
                )
            )
        if line_days:
            totals = line_totals or {}
            cr.execute(
                SQL(
                    """
                UPDATE crm_installment_line line
                   SET penalty_date_ref = v.day, penalty_amount = v.total
                  FROM unnest(%s::int[], %s::date[], %s::numeric[]) AS v(id, day, total)
                 WHERE line.id = v.id
                   AND (line.penalty_date_ref IS DISTINCT FROM v.day OR line.penalty_amount IS DISTINCT FROM v.total)
                """,
                    list(line_days),
                    list(line_days.values()),
                    [totals.get(line_id, 0.0) for line_id in line_days],
                )
            )
        if plan_ids:
            cr.execute(
                SQL(
                    """
                UPDATE crm_installment_plan plan SET penalty_total = COALESCE(s.total, 0)
                  FROM unnest(%(plans)s::int[]) AS v(id)
                  LEFT JOIN (SELECT plan_id, SUM(amount) AS total FROM crm_installment_penalty
                              WHERE plan_id = ANY(%(plans)s) GROUP BY plan_id) s ON s.plan_id = v.id
                 WHERE plan.id = v.id AND plan.penalty_total IS DISTINCT FROM COALESCE(s.total, 0)
                """,
                    plans=sorted(plan_ids),
                )
            )
        if move_days:
            cr.execute(
                SQL(
                    """
                UPDATE account_move move SET crm_penalty_date_ref = v.day
                  FROM unnest(%s::int[], %s::date[]) AS v(id, day)
                 WHERE move.id = v.id
                """,
                    list(move_days),
                    list(move_days.values()),
                )
            )
