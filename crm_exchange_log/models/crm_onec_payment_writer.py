import json
import logging
import re
from collections import Counter, defaultdict

from psycopg2 import errors

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.crm_single_truth.tools.sql import reserve_ids

from .crm_onec_sale_writer import MOVE_AMOUNTS

_logger = logging.getLogger(__name__)
AUDIT = {"create_uid", "create_date", "write_uid", "write_date"}
#: stored fields depending on the residuals that the writer sets itself (or that cannot change)
WRITTEN = {
    "account.move": (*MOVE_AMOUNTS, "payment_state", "invoice_date_due"),
    "account.payment": ("amount_company_currency_signed", "state", "is_reconciled", "is_matched", "name"),
}


def _assignments(columns):
    """``, column = expression`` for each of ``columns`` ({field name: SQL})."""
    return SQL("").join(SQL(", %s = %s", SQL.identifier(fname), expression) for fname, expression in columns.items())


class _Refused(Exception):
    """The chunk is not one the writer reproduces exactly: the ORM path applies it."""


class CrmOnecPaymentWriter(models.AbstractModel):
    """Set-based writer of the customer payments mirrored from 1C and of their reconciliation
    with the invoices they name: the rows ``account.payment.create`` + ``action_post`` and
    ``account.move.line._reconcile_plan`` store, written with a handful of statements per chunk.
    It handles payments in the company currency into invoices in the company currency (no
    exchange difference, no cash basis, no installment plan, no lock date); anything else is
    refused (``_check_chunk`` returns a reason) and goes the ORM way."""

    _name = "crm.onec.payment.writer"
    _description = "1C Payment Writer"

    # ------------------------------------------------------------------ eligibility
    @api.model
    def _check_chunk(self, company, journal, vals_list, targets):
        """None when the writer reproduces this chunk exactly, else why not."""
        try:
            self._chunk_context(company, journal, vals_list, targets)
            self._payment_defaults(company, journal, vals_list)
        except _Refused as reason:
            return str(reason)
        return None

    @api.model
    def _chunk_context(self, company, journal, vals_list, targets):
        """The invoices the chunk pays, or _Refused."""
        self._check_payments(company, journal, vals_list)
        return self._check_documents(company, vals_list, targets)

    @api.model
    def _check_payments(self, company, journal, vals_list):
        currency = company.currency_id
        today = fields.Date.context_today(self)
        if not self.env.context.get("tracking_disable"):
            raise _Refused("chatter of the payments asked (followers, tracking)")
        if self.env["account.analytic.distribution.model"].sudo().search_count([], limit=1):
            raise _Refused("analytic distribution models")
        if not journal.active or journal.restrict_mode_hash_table or journal.company_id != company:
            raise _Refused("journal locked, archived or of another company")
        if company.tax_exigibility:
            raise _Refused("cash basis taxes")
        if self.env["account.move"]._get_invoice_in_payment_state() != "paid":
            raise _Refused("'in payment' state of invoices")
        for vals in vals_list:
            if vals["currency_id"] != currency.id or vals["journal_id"] != journal.id:
                raise _Refused("payment in a foreign currency or another journal")
            if vals["company_id"] != company.id or vals["payment_type"] != "inbound":
                raise _Refused("not an inbound payment of the company")
            if vals["date"] > today:
                raise _Refused("payment dated in the future (posted at its date)")
        for date in {vals["date"] for vals in vals_list}:
            if company._get_violated_lock_dates(date, False, journal):
                raise _Refused("lock date")

    @api.model
    def _check_documents(self, company, vals_list, targets):
        Move = self.env["account.move"]
        moves = Move.browse()
        for vals, (move, open_lines) in zip(vals_list, targets, strict=True):
            if not open_lines:
                continue
            moves |= move
            if move.currency_id != company.currency_id or open_lines.currency_id != company.currency_id:
                raise _Refused("document in a foreign currency")
            if len(open_lines) > 1:
                raise _Refused("document due in several installments")
            if open_lines.account_id.id != vals["destination_account_id"] or not open_lines.account_id.reconcile:
                raise _Refused("document receivable on another account")
            if move.company_id != company or move.move_type != "out_invoice":
                raise _Refused("not a customer invoice of the company")
        if not moves:
            return moves
        if "crm_penalty_date_ref" in Move._fields and moves.filtered("crm_penalty_date_ref"):
            raise _Refused("document with penalties")
        if hasattr(Move, "_crm_active_plan_by_invoice") and moves.sudo()._crm_active_plan_by_invoice():
            raise _Refused("document under an installment plan")
        self.env.cr.execute(
            """SELECT 1 FROM account_move__account_payment rel
                 JOIN account_payment pay ON pay.id = rel.payment_id
                WHERE rel.invoice_id = ANY(%s) AND pay.move_id IS NULL LIMIT 1""",
            [moves.ids],
        )
        if self.env.cr.fetchone():
            raise _Refused("document with payments without journal entry")
        return moves

    # ------------------------------------------------------------------ writing
    @api.model
    def _write_payments(self, company, journal, vals_list, targets):
        """Write the posted payments of ``vals_list`` (as prepared by
        ``crm.onec.connector._prepare_payment``) and reconcile each with the open receivable lines
        of its target ``(document, open lines)``: the payments (in order), and the (move id,
        partner id) pairs of the followers posting would subscribe; None (nothing written) when
        the chunk is not one it reproduces exactly."""
        try:
            invoices = self._chunk_context(company, journal, vals_list, targets)
            defaults = self._payment_defaults(company, journal, vals_list)
        except _Refused as reason:
            _logger.info("%s payments from 1C go the ORM way: %s", len(vals_list), reason)
            return None
        self.env.flush_all()
        if invoices and hasattr(invoices, "_crm_kpi_touch"):
            # what the invoices contribute to the customers' figures before they are paid
            invoices._crm_kpi_touch()
        pre_paid = set(invoices.filtered(lambda move: move.payment_state in ("paid", "in_payment")).ids)
        count = len(vals_list)
        payment_ids = reserve_ids(self.env, "account_payment", count)
        move_ids = reserve_ids(self.env, "account_move", count)
        line_ids = reserve_ids(self.env, "account_move_line", 2 * count)
        currency = company.currency_id
        today = fields.Date.context_today(self)
        Payment, Move, Line = self.env["account.payment"], self.env["account.move"], self.env["account.move.line"]
        payment_rows, move_rows, line_rows = [], [], []
        pairs, ranks = [], Counter()
        for index, vals in enumerate(vals_list):
            partner = self.env["res.partner"].browse(vals["partner_id"])
            default = defaults[vals["partner_id"]]
            destination = vals.get("destination_account_id") or default["destination_account_id"]
            amount = currency.round(vals["amount"])
            memo = vals.get("memo") or None
            label = "".join(part for _key, part in default["label"](memo) if part)
            outstanding = default["outstanding_account"]
            payment_id, move_id = payment_ids[index], move_ids[index]
            liquidity_id, counterpart_id = line_ids[2 * index], line_ids[2 * index + 1]
            liquidity_residual = amount if outstanding.reconcile or outstanding.account_type == "asset_cash" else 0.0
            payment_rows.append(
                {
                    "id": payment_id,
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "partner_bank_id": default["partner_bank_id"],
                    "payment_method_line_id": default["payment_method_line_id"],
                    "payment_method_id": default["payment_method_id"],
                    "currency_id": currency.id,
                    "partner_id": partner.id,
                    "outstanding_account_id": outstanding.id,
                    "destination_account_id": destination,
                    "payment_type": "inbound",
                    "partner_type": vals.get("partner_type") or "customer",
                    "memo": memo,
                    "date": vals["date"],
                    "amount": amount,
                    "amount_company_currency_signed": amount,
                    "crm_onec_ref": vals.get("crm_onec_ref") or None,
                    "crm_onec_document_id": vals.get("crm_onec_document_id") or None,
                    "move_id": move_id,
                    # named with the entry, settled with the reconciliation (both before the insert)
                    "name": None,
                    "state": "in_process",
                    "is_reconciled": False,
                    "is_matched": False,
                }
            )
            move_rows.append(
                {
                    "id": move_id,
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "origin_payment_id": payment_id,
                    "partner_id": partner.id,
                    "commercial_partner_id": partner.commercial_partner_id.id,
                    "partner_bank_id": default["partner_bank_id"],
                    "currency_id": currency.id,
                    # numbered when inserted (_insert_entries)
                    "name": None,
                    "sequence_prefix": None,
                    "sequence_number": None,
                    "made_sequence_gap": False,
                    "ref": memo,
                    "state": "posted",
                    "move_type": "entry",
                    "auto_post": "no",
                    "payment_state": "not_paid",
                    "invoice_partner_display_name": partner.display_name,
                    "date": vals["date"],
                    "invoice_date_due": today,
                    "amount_untaxed": 0.0,
                    "amount_tax": 0.0,
                    "amount_total": amount,
                    "amount_residual": 0.0,
                    "amount_untaxed_signed": 0.0,
                    "amount_untaxed_in_currency_signed": 0.0,
                    "amount_tax_signed": 0.0,
                    "amount_total_signed": amount,
                    "amount_total_in_currency_signed": amount,
                    "amount_residual_signed": 0.0,
                    "always_tax_exigible": True,
                    "checked": bool(journal.autocheck_on_post) or default["checked"],
                    "posted_before": True,
                    "is_manually_modified": False,
                    "is_storno": False,
                    "invoice_currency_rate": 0.0,
                }
            )
            common = {
                "move_id": move_id,
                "journal_id": journal.id,
                "company_id": company.id,
                "company_currency_id": currency.id,
                "sequence": 100,
                "currency_id": currency.id,
                "partner_id": partner.id,
                "payment_id": payment_id,
                "move_name": None,
                "parent_state": "posted",
                "ref": memo,
                "name": label,
                "display_type": "product",
                "date": vals["date"],
                "date_maturity": vals["date"],
                "quantity": 1.0,
                "price_unit": 0.0,
                "discount": 0.0,
                "tax_tag_invert": False,
                # matched by the reconciliation planned before the insert
                "reconciled": False,
                "full_reconcile_id": None,
                "matching_number": None,
            }
            line_rows.append(
                {
                    **common,
                    "id": liquidity_id,
                    "account_id": outstanding.id,
                    "debit": amount,
                    "credit": 0.0,
                    "balance": amount,
                    "amount_currency": amount,
                    "price_subtotal": amount,
                    "price_total": amount,
                    "amount_residual": liquidity_residual,
                    "amount_residual_currency": liquidity_residual,
                }
            )
            line_rows.append(
                {
                    **common,
                    "id": counterpart_id,
                    "account_id": destination,
                    "debit": 0.0,
                    "credit": amount,
                    "balance": -amount,
                    "amount_currency": -amount,
                    "price_subtotal": -amount,
                    "price_total": -amount,
                    "amount_residual": -amount,
                    "amount_residual_currency": -amount,
                }
            )
            pairs.append((move_id, partner.id))
            if self.env["account.account"].browse(destination).account_type == "asset_receivable":
                ranks[partner] += 1
        try:
            self._check_defaults({Payment: payment_rows[0], Move: move_rows[0], Line: line_rows[0]})
        except _Refused as reason:
            _logger.info("%s payments from 1C go the ORM way: %s", len(vals_list), reason)
            return None
        # the reconciliation is planned first: every row of the payments is inserted final
        plans = [
            (line_ids[2 * index + 1], open_lines.ids) for index, (_move, open_lines) in enumerate(targets) if open_lines
        ]
        matching = self._reconcile(plans, {row["id"]: row for row in line_rows}) if plans else None
        self._settle_payments(journal, payment_rows, line_rows)
        if matching and matching["fulls"]:
            self._insert(self.env["account.full.reconcile"], [{"id": full_id} for full_id in matching["fulls"]])
        names = self._insert_entries(journal, payment_rows, move_rows)
        for row in line_rows:
            row["move_name"] = names[row["move_id"]]
        self._insert(Line, line_rows)
        touched = self._write_matching(matching) if matching else set()
        self._raise_ranks(ranks)
        self._settle_invoices(invoices)
        self.env.invalidate_all()
        payments = Payment.browse(payment_ids)
        # what else depends on the residuals is recomputed as stock does; what was written above
        # (and what cannot change: the totals), with what follows from the payment state, is not
        # computed again
        following = tuple(Move._crm_payment_state_columns(SQL("m"), SQL("m.payment_state")))
        lines = Line.browse(sorted(touched | set(line_ids)))
        lines.fetch(["move_id", "payment_id"])  # what the triggers read of them (not every column)
        lines.modified(
            ["amount_residual", "amount_residual_currency", "reconciled", "full_reconcile_id", "matching_number"]
        )
        for model, records, written in (
            (Move, Move.browse(move_ids) | invoices, WRITTEN[Move._name] + following),
            (Payment, payments, WRITTEN[Payment._name]),
        ):
            for fname in written:
                self.env.remove_to_compute(model._fields[fname], records)
        self.env.flush_all()
        newly_paid = invoices.filtered(
            lambda move: move.id not in pre_paid and move.payment_state in ("paid", "in_payment")
        )
        if newly_paid:
            newly_paid._invoice_paid_hook()
        return payments, pairs

    @api.model
    def _raise_ranks(self, ranks):
        """account.move._post: the customers' rank grows by their receivable entries ({partner: entries}),
        one update per increment."""
        increments = Counter()
        partners = self.env["res.partner"].browse([partner.id for partner in ranks])  # read together
        for partner, number in zip(partners, ranks.values(), strict=True):
            for rank_partner in partner | partner.commercial_partner_id:
                increments[rank_partner.id] += number
        by_increment = defaultdict(list)
        for partner_id, number in increments.items():
            by_increment[number].append(partner_id)
        for number, partner_ids in by_increment.items():
            self.env["res.partner"].browse(sorted(partner_ids))._increase_rank("customer_rank", number)

    @api.model
    def _payment_defaults(self, company, journal, vals_list):
        """What ``account.payment`` computes for each customer of the chunk (method line,
        outstanding account, bank account, receivable, label): a draft record per distinct
        preference of the customers (their payment method line and receivable account)."""
        Payment = self.env["account.payment"].with_company(company)
        accounting = self.env["account.move"]._get_invoice_in_payment_state() == "in_payment"
        checked = self.env["account.move"].default_get(["checked"]).get("checked", False)
        partners = (
            self.env["res.partner"]
            .with_company(company)
            .browse(list(dict.fromkeys(vals["partner_id"] for vals in vals_list)))
        )
        if company.partner_id in partners:
            raise _Refused("a payment from the company itself")
        by_preference, defaults = {}, {}
        for partner in partners:
            preference = (partner.property_inbound_payment_method_line_id, partner.property_account_receivable_id)
            if preference not in by_preference:
                draft = Payment.new(
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": partner.id,
                        "journal_id": journal.id,
                        "company_id": company.id,
                        "currency_id": company.currency_id.id,
                    }
                )
                outstanding = draft.outstanding_account_id
                if not accounting and not outstanding:
                    outstanding = draft._get_outstanding_account("inbound")
                method_line = draft.payment_method_line_id
                if not outstanding or not method_line:
                    raise _Refused("no payment method or outstanding receipts account")
                if outstanding.deprecated or draft.destination_account_id.deprecated:
                    raise _Refused("deprecated account")

                def label(memo, name=method_line.name):
                    # account.payment._get_aml_default_display_name_list
                    return [("label", name), ("sep", ": "), ("memo", memo)] if memo else [("label", name)]

                by_preference[preference] = {
                    "payment_method_line_id": method_line.id,
                    "payment_method_id": method_line.payment_method_id.id,
                    "partner_bank_id": draft.partner_bank_id.id or None,
                    "destination_account_id": draft.destination_account_id.id,
                    "outstanding_account": outstanding,
                    "label": label,
                    "checked": checked,
                }
            defaults[partner.id] = by_preference[preference]
        return defaults

    @api.model
    def _check_defaults(self, rows):
        """Refuse when a module gives a default to a stored field the writer leaves out (the ORM
        would store it): {model: a row of the writer}."""
        for model, row in rows.items():
            left_out = [
                name
                for name, field in model._fields.items()
                if field.store and not field.compute and field.column_type and name not in row and name not in AUDIT
            ]
            defaults = {name: value for name, value in model.default_get(left_out).items() if value}
            if defaults:
                raise _Refused(f"defaults of {model._name} the writer does not set: {sorted(defaults)}")

    @api.model
    def _insert(self, model, rows):
        self.env.cr.execute(self._insert_query(model, rows))

    @api.model
    def _insert_query(self, model, rows, following=None):
        """The INSERT of the rows (dicts with the same keys) with the audit columns, in one
        statement (the rows sent as one JSON parameter); ``following``: {column: SQL over the new
        row ``m``}."""
        now, uid = self.env.cr.now(), self.env.uid
        audit = {"create_uid": uid, "write_uid": uid, "create_date": now, "write_date": now}
        columns = [*rows[0], *audit]
        following = following or {}
        table = SQL.identifier(model._table)
        return SQL(
            "INSERT INTO %s (%s) SELECT %s FROM json_populate_recordset(NULL::%s, %s) AS m",
            table,
            SQL(", ").join(SQL.identifier(column) for column in [*columns, *following]),
            SQL(", ").join([*(SQL.identifier("m", column) for column in columns), *following.values()]),
            table,
            json.dumps([{**row, **audit} for row in rows], default=str),
        )

    @api.model
    def _insert_entries(self, journal, payment_rows, move_rows):
        """Insert the payments with their entries (one statement for both: their references to each
        other are checked at its end), the entries numbered from the journal's sequence in the order
        ``account.move._compute_name`` gives them (date, reference, id) as ``_locked_increment``
        numbers them: the first number of a period the transaction has not taken yet is locked by
        inserting its entry alone through the unique index (the next number tried while another
        transaction has it), the others follow in the transaction's sequence cache. A period's
        entries are written before the format of the next is read from the journal's last numbers.
        {move id: name}."""
        Move = self.env["account.move"]
        regex = Move._make_regex_non_capturing(Move._sequence_fixed_regex.replace(r"?P<seq>", ""))
        cache = Move._get_sequence_cache()
        payments = {row["move_id"]: row for row in payment_rows}
        ordered = sorted(move_rows, key=lambda row: (row["date"], row["ref"] or "", row["id"]))
        start = 0
        while start < len(ordered):
            draft = Move.new(
                {
                    fname: ordered[start][fname]
                    for fname in ("journal_id", "company_id", "date", "move_type", "origin_payment_id")
                }
            )
            format_string, format_values = draft._get_next_sequence_format()
            date_start, date_end, *_rest = draft._get_sequence_date_range(
                draft._deduce_sequence_number_reset(format_string.format(**format_values))
            )
            end = start + 1
            while end < len(ordered) and date_start <= ordered[end]["date"] <= date_end:
                end += 1
            period, start = ordered[start:end], end
            seq = format_values.pop("seq")
            key = (format_string.format(**format_values, seq=0), journal)
            locked = key in cache
            if not locked:
                first = period.pop(0)
                with self.env.cr.savepoint(flush=False) as savepoint:
                    while True:
                        seq += 1
                        self._number(first, payments, format_string.format(**format_values, seq=seq), regex, True)
                        try:
                            self.env.cr.execute(self._entries_query(payments, [first]), log_exceptions=False)
                            break
                        except errors.UniqueViolation as error:
                            if error.diag.constraint_name != "account_move_unique_name":
                                raise
                            savepoint.rollback()
                cache[key] = seq
            for index, row in enumerate(period):
                cache[key] += 1
                self._number(
                    row, payments, format_string.format(**format_values, seq=cache[key]), regex, locked and not index
                )
            if period:
                self.env.cr.execute(self._entries_query(payments, period))
        return {row["id"]: row["name"] for row in move_rows}

    @api.model
    def _number(self, row, payments, name, regex, first):
        """Name an entry (and its payment): its sequence prefix and number, and whether it opens a
        gap, for the ``first`` of a run of numbers (the others follow it)."""
        matching = re.match(regex, name)
        row.update(name=name, sequence_prefix=name[: matching.start(1)], sequence_number=int(matching.group(1) or 0))
        payments[row["id"]]["name"] = name
        if first and row["sequence_number"] > 1:
            self.env.cr.execute(
                """SELECT 1 FROM account_move
                    WHERE journal_id = %s AND sequence_prefix = %s AND sequence_number = %s""",
                [row["journal_id"], row["sequence_prefix"], row["sequence_number"] - 1],
            )
            row["made_sequence_gap"] = not self.env.cr.fetchone()

    @api.model
    def _entries_query(self, payments, move_rows):
        """The INSERT of the entries ``move_rows`` and of their payments, with what follows from
        their payment state."""
        following = self.env["account.move"]._crm_payment_state_columns(SQL("m"), SQL("m.payment_state"))
        return SQL(
            "WITH payments AS (%s) %s",
            self._insert_query(self.env["account.payment"], [payments[row["id"]] for row in move_rows]),
            self._insert_query(self.env["account.move"], move_rows, following),
        )

    # ------------------------------------------------------------------ reconciliation
    @api.model
    def _reconcile(self, plans, new_lines):
        """Partials, full reconciliations, matching numbers and residuals of ``plans`` [(credit line
        id of a payment, open receivable line ids of its invoice)], as ``_reconcile_plan`` stores
        them in one currency, planned before the payments' journal items ``new_lines`` ({id: row},
        completed here) are written: the ids of the full reconciliations, the rows of the partials,
        and what changes in the rows written before ({partial id: full reconciliation id}, journal
        items); None when nothing is matched."""
        all_ids = sorted({line_id for credit, debits in plans for line_id in (credit, *debits)})
        self.env.cr.execute(
            """SELECT l.id, l.date, l.date_maturity, l.amount_currency, l.balance, l.amount_residual,
                      l.matching_number, l.company_id, l.currency_id, m.move_type
                 FROM account_move_line l JOIN account_move m ON m.id = l.move_id WHERE l.id = ANY(%s)""",
            [[line_id for line_id in all_ids if line_id not in new_lines]],
        )
        info = {row[0]: row for row in self.env.cr.fetchall()}
        for line_id in all_ids:
            if line_id in new_lines:
                row = new_lines[line_id]
                info[line_id] = (
                    line_id,
                    *(row[fname] for fname in ("date", "date_maturity", "amount_currency", "balance")),
                    *(row[fname] for fname in ("amount_residual", "matching_number", "company_id", "currency_id")),
                    "entry",  # of a payment
                )
        residual = {line_id: row[5] for line_id, row in info.items()}
        partials = []
        for credit, debits in plans:
            partials += self._plan_partials((credit, *debits), info, residual)
        if not partials:
            return None
        partial_ids = reserve_ids(self.env, "account_partial_reconcile", len(partials))
        numbers = sorted({info[line_id][6] for line_id in all_ids if info[line_id][6]})
        groups = self._matched_groups(numbers, partials, partial_ids)
        full_of, lines = self._match(plans, residual, new_lines, *groups)
        return {
            "fulls": sorted(set(full_of.values())),
            "partials": self._partial_rows(partials, partial_ids, info, full_of),
            "joined": {partial_id: full_id for partial_id, full_id in full_of.items() if partial_id not in partial_ids},
            "lines": lines,
        }

    @api.model
    def _plan_partials(self, line_ids, info, residual):
        """[(debit line, credit line, amount)] matching ``line_ids`` together in the order stock
        sorts them (due date, amounts), ``residual`` kept up to date from one plan to the next."""
        currency = self.env.company.currency_id
        lines = sorted(line_ids, key=lambda line_id: (info[line_id][2] or info[line_id][1], *info[line_id][3:5]))
        debits = iter([line_id for line_id in lines if info[line_id][4] > 0 or info[line_id][3] > 0])
        credits = iter([line_id for line_id in lines if info[line_id][4] < 0 or info[line_id][3] < 0])
        partials = []
        debit_id, credit_id = next(debits, None), next(credits, None)
        while debit_id is not None and credit_id is not None:
            debit_left, credit_left = residual[debit_id], -residual[credit_id]
            if currency.compare_amounts(debit_left, 0) <= 0:
                debit_id = next(debits, None)
                continue
            if currency.compare_amounts(credit_left, 0) <= 0:
                credit_id = next(credits, None)
                continue
            amount = min(debit_left, credit_left)
            compare = currency.compare_amounts(debit_left, credit_left)
            partials.append((debit_id, credit_id, amount))
            residual[debit_id] = currency.round(residual[debit_id] - amount)
            residual[credit_id] = currency.round(residual[credit_id] + amount)
            if compare <= 0:
                debit_id = next(debits, None)
            if compare >= 0:
                credit_id = next(credits, None)
        return partials

    @api.model
    def _partial_rows(self, partials, partial_ids, info, full_of):
        """The rows of the new ``partials`` [(debit, credit, amount)] ({partial id: full reconciliation id})."""
        invoice_types = self.env["account.move"].get_invoice_types(include_receipts=True)
        rows = []
        for partial_id, (debit_id, credit_id, amount) in zip(partial_ids, partials, strict=True):
            debit, credit = info[debit_id], info[credit_id]
            rows.append(
                {
                    "id": partial_id,
                    "debit_move_id": debit_id,
                    "credit_move_id": credit_id,
                    "debit_currency_id": debit[8],
                    "credit_currency_id": credit[8],
                    # account.partial.reconcile._compute_company_id
                    "company_id": debit[7] if debit[9] in invoice_types else credit[7],
                    "max_date": max(debit[1], credit[1]),
                    "amount": amount,
                    "debit_amount_currency": amount,
                    "credit_amount_currency": amount,
                    "full_reconcile_id": full_of.get(partial_id),
                }
            )
        return rows

    @api.model
    def _matched_groups(self, numbers, partials, partial_ids):
        """The groups of journal items matched together (with what they were matched with before,
        by their matching ``numbers``): (root of a line, {root: line ids}, {root: partial ids})."""
        parent = {}

        def find(node):
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        edges = []
        if numbers:
            self.env.cr.execute(
                """SELECT p.id, p.debit_move_id, p.credit_move_id FROM account_partial_reconcile p
                     JOIN account_move_line l ON l.id IN (p.debit_move_id, p.credit_move_id)
                    WHERE l.matching_number = ANY(%s) AND p.id != ALL(%s)""",
                [numbers, partial_ids],
            )
            edges = list(set(self.env.cr.fetchall()))
        edges += [(pid, debit, credit) for pid, (debit, credit, _amount) in zip(partial_ids, partials, strict=True)]
        for _pid, debit, credit in edges:
            left, right = find(debit), find(credit)
            if left != right:
                parent[max(left, right)] = min(left, right)
        group_lines, group_partials = defaultdict(set), defaultdict(set)
        for pid, debit, credit in edges:
            root = find(debit)
            group_lines[root].update((debit, credit))
            group_partials[root].add(pid)
        return find, group_lines, group_partials

    @api.model
    def _match(self, plans, residual, new_lines, find, group_lines, group_partials):
        """Full reconciliations of the groups left with nothing to match (in the order of the plans,
        as stock walks them), matching numbers, residuals: set in the rows of ``new_lines``, and
        ({partial id: full reconciliation id}, [(id, residual, residual in currency, reconciled,
        full reconciliation id, matching number)] of the journal items written before)."""
        currency = self.env.company.currency_id
        grouped = {line_id for ids in group_lines.values() for line_id in ids}
        self.env.cr.execute(
            """SELECT id, amount_residual, amount_residual_currency, reconciled
                 FROM account_move_line WHERE id = ANY(%s)""",
            [sorted(grouped.difference(new_lines))],
        )
        state = {row[0]: [row[1], row[2], row[3]] for row in self.env.cr.fetchall()}
        for line_id in grouped.intersection(new_lines):
            row = new_lines[line_id]
            state[line_id] = [row["amount_residual"], row["amount_residual_currency"], row["reconciled"]]
        for line_id, value in residual.items():
            if line_id in state:  # a line of a plan left unmatched (its invoice already paid) is not touched
                state[line_id][0] = state[line_id][1] = value
        fulls = list(
            dict.fromkeys(
                root
                for root in (find(credit) for credit, _debits in plans)
                if root in group_lines
                and all(state[line_id][2] or currency.is_zero(state[line_id][1]) for line_id in group_lines[root])
            )
        )
        full_of = dict(
            zip(fulls, reserve_ids(self.env, "account_full_reconcile", len(fulls)) if fulls else [], strict=True)
        )
        updates = []
        for root, line_set in group_lines.items():
            full_id = full_of.get(root)
            # account.partial.reconcile._update_matching_number
            number = str(full_id) if full_id else f"P{min(group_partials[root])}"
            for line_id in line_set:
                value = state[line_id]
                reconciled = bool(value[2]) or (currency.is_zero(value[0]) and currency.is_zero(value[1]))
                if line_id in new_lines:
                    new_lines[line_id].update(
                        amount_residual=value[0],
                        amount_residual_currency=value[1],
                        reconciled=reconciled,
                        full_reconcile_id=full_id,
                        matching_number=number,
                    )
                else:
                    updates.append((line_id, value[0], value[1], reconciled, full_id, number))
        joined = {partial_id: full_of[root] for root in fulls for partial_id in group_partials[root]}
        return joined, updates

    @api.model
    def _write_matching(self, matching):
        """The partials planned by ``_reconcile`` (the payments' journal items written), and what
        they change in the partials and journal items written before: the ids of those items."""
        cr = self.env.cr
        self._insert(self.env["account.partial.reconcile"], matching["partials"])
        if matching["joined"]:
            cr.execute(
                """UPDATE account_partial_reconcile p SET full_reconcile_id = v.full_id
                     FROM unnest(%s::int[], %s::int[]) AS v(id, full_id) WHERE p.id = v.id""",
                [list(matching["joined"]), list(matching["joined"].values())],
            )
        if matching["lines"]:
            cr.execute_values(
                """UPDATE account_move_line l
                      SET amount_residual = v.residual, amount_residual_currency = v.residual_currency,
                          reconciled = v.reconciled, full_reconcile_id = v.full_id, matching_number = v.number,
                          write_uid = v.uid, write_date = v.now
                     FROM (VALUES %s) AS v(id, residual, residual_currency, reconciled, full_id, number, uid, now)
                    WHERE l.id = v.id""",
                [(*update, self.env.uid, cr.now()) for update in matching["lines"]],
                template="(%s, %s::numeric, %s::numeric, %s, %s::integer, %s, %s, %s::timestamp)",
                page_size=1000,
            )
        return {row[0] for row in matching["lines"]}

    @api.model
    def _settle_invoices(self, invoices):
        """The customer invoices' residual and payment state once their receivable lines are matched
        with payments (``_compute_amount``, ``_compute_payment_state``: paid when nothing is left,
        else partly paid), what follows from the payment state in other modules
        (``account.move._crm_payment_state_columns``), and the mark that ``_reconcile_plan`` leaves
        when it syncs their payment terms, all in one statement (each row written once)."""
        if not invoices:
            return
        Move = self.env["account.move"]
        following = Move._crm_payment_state_columns(SQL("m"), SQL("v.payment_state"))
        query = SQL(
            """UPDATE account_move m
                  SET amount_residual = v.residual_currency, amount_residual_signed = v.residual,
                      payment_state = v.payment_state, is_manually_modified = TRUE,
                      write_uid = %(uid)s, write_date = %(now)s %(following)s
                 FROM (SELECT l.move_id, SUM(l.amount_residual) AS residual,
                              SUM(l.amount_residual_currency) AS residual_currency,
                              CASE WHEN ROUND(SUM(l.amount_residual_currency), c.decimal_places) = 0 THEN %(paid)s
                                   ELSE 'partial' END AS payment_state
                         FROM account_move_line l
                         JOIN account_move i ON i.id = l.move_id
                         JOIN res_currency c ON c.id = i.currency_id
                        WHERE l.move_id = ANY(%(ids)s) AND l.display_type = 'payment_term'
                        GROUP BY l.move_id, c.decimal_places) v
                WHERE m.id = v.move_id
            RETURNING m.id""",
            uid=self.env.uid,
            now=self.env.cr.now(),
            following=_assignments(following),
            paid=Move._get_invoice_in_payment_state(),
            ids=invoices.ids,
        )
        self.env.cr.execute(query)
        unsettled = set(invoices.ids).difference(row[0] for row in self.env.cr.fetchall())
        if unsettled:
            # an invoice without a payment term line (stock never posts one): only the mark
            self.env.cr.execute(
                """UPDATE account_move SET is_manually_modified = TRUE, write_uid = %s, write_date = %s
                    WHERE id = ANY(%s)""",
                [self.env.uid, self.env.cr.now(), sorted(unsettled)],
            )

    @api.model
    def _settle_payments(self, journal, payment_rows, line_rows):
        """The payments' reconciliation status and state once their journal items are matched
        (``_compute_reconciliation_status``, ``_compute_state``), set in their rows (``line_rows``:
        the liquidity and counterpart items of each payment, in that order)."""
        currency = self.env.company.currency_id
        Account = self.env["account.account"]
        for payment, *lines in zip(payment_rows, line_rows[0::2], line_rows[1::2], strict=True):
            counterpart = lines[1]
            outstanding = [line for line in lines if line["account_id"] == payment["outstanding_account_id"]]
            liquidity_residual = sum(line["amount_residual"] for line in outstanding)
            reconcilable = outstanding and Account.browse(payment["outstanding_account_id"]).reconcile
            payment.update(
                state="paid" if currency.is_zero(liquidity_residual) or not reconcilable else "in_process",
                is_reconciled=(
                    not Account.browse(counterpart["account_id"]).reconcile
                    or currency.is_zero(counterpart["amount_residual"])
                ),
                is_matched=(
                    any(line["account_id"] == journal.default_account_id.id for line in lines)
                    or currency.is_zero(liquidity_residual)
                ),
            )
