import logging
import re
from collections import Counter, defaultdict

from psycopg2 import sql

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
                    # settled below with the reconciliation
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
                    "name": "/",
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
                    "made_sequence_gap": False,
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
                "move_name": "/",
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
                "reconciled": False,
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
        self._insert(Payment, payment_rows)
        self._insert(Move, move_rows)
        self.env.invalidate_all()
        names = self._name_moves(Move.browse(move_ids))
        for row in line_rows:
            row["move_name"] = names[row["move_id"]]
        self._insert(Line, line_rows)
        self.env.cr.execute_values(
            """UPDATE account_payment p SET move_id = v.move_id, name = v.name
                 FROM (VALUES %s) AS v(id, move_id, name) WHERE p.id = v.id""",
            [(payment_id, move_id, names[move_id]) for payment_id, move_id in zip(payment_ids, move_ids, strict=True)],
            page_size=1000,
        )
        self.env.invalidate_all()
        self._raise_ranks(ranks)
        # ------------------------------------------------------------ reconciliation
        plans = []
        for index, (_move, open_lines) in enumerate(targets):
            if open_lines:
                plans.append((line_ids[2 * index + 1], open_lines.ids))
        touched = self._reconcile(plans) if plans else set()
        self._settle_invoices(invoices)
        self.env.invalidate_all()
        payments = Payment.browse(payment_ids)
        self._settle_payments(payments, line_ids)
        # what else depends on the residuals is recomputed as stock does; what was written above
        # (and what cannot change: the totals), with what follows from the payment state, is not
        # computed again
        following = tuple(Move._crm_payment_state_columns(SQL("m"), SQL("m.payment_state")))
        Line.browse(sorted(touched | set(line_ids))).modified(
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
        """INSERT the rows (dicts with the same keys) with the audit columns, in one statement per page."""
        columns = [*rows[0], "create_uid", "write_uid", "create_date", "write_date"]
        now, uid = self.env.cr.now(), self.env.uid
        self.env.cr.execute_values(
            sql.SQL("INSERT INTO {} ({}) VALUES %s").format(
                sql.Identifier(model._table), sql.SQL(", ").join(map(sql.Identifier, columns))
            ),
            [(*row.values(), uid, uid, now, now) for row in rows],
            page_size=1000,
        )

    @api.model
    def _name_moves(self, moves):
        """Names from the journal's sequence, in the order ``account.move._compute_name`` gives them
        (date, reference, id): the first of each period by stock ``_locked_increment`` (which locks
        the number through the unique index and caches it), the others following it (each locked
        by the update that writes it): {move id: name}."""
        names = {}
        Move = self.env["account.move"]
        regex = Move._make_regex_non_capturing(Move._sequence_fixed_regex.replace(r"?P<seq>", ""))
        ordered = moves.sorted(lambda move: (move.date, move.ref or "", move.id))
        cache = Move._get_sequence_cache()
        groups = []  # [(date_start, date_end, cache key, format, values, [moves])]
        for move in ordered:
            group = groups[-1] if groups else None
            if not group or not (group[0] <= move.date <= group[1]):
                if group:
                    names.update(self._write_names(group, regex))
                format_string, format_values = move._get_next_sequence_format()
                date_start, date_end, *_rest = move._get_sequence_date_range(
                    move._deduce_sequence_number_reset(format_string.format(**format_values))
                )
                key = (format_string.format(**{**format_values, "seq": 0}), move.journal_id)
                first = move._locked_increment(format_string, dict(format_values))
                group = [date_start, date_end, key, format_string, format_values, [(move, first)]]
                groups.append(group)
            else:
                cache[group[2]] += 1
                group[5].append((move, group[3].format(**{**group[4], "seq": cache[group[2]]})))
        if groups:
            names.update(self._write_names(groups[-1], regex))
        return names

    @api.model
    def _write_names(self, group, regex):
        """Name, prefix, number and sequence gap of a group of moves numbered in a row."""
        named = group[5]
        rows = []
        for move, name in named:
            matching = re.match(regex, name)
            rows.append([move.id, name, name[: matching.start(1)], int(matching.group(1) or 0), False])
        first_number, prefix = rows[0][3], rows[0][2]
        self.env.cr.execute(
            "SELECT 1 FROM account_move WHERE journal_id = %s AND sequence_prefix = %s AND sequence_number = %s",
            [named[0][0].journal_id.id, prefix, first_number - 1],
        )
        rows[0][4] = first_number > 1 and not self.env.cr.fetchone()
        # what follows from the new entries' payment state is set with their names (one write per row)
        following = self.env["account.move"]._crm_payment_state_columns(SQL("m"), SQL("m.payment_state"))
        ids, names, prefixes, numbers, gaps = zip(*rows, strict=True)
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m
                      SET name = v.name, sequence_prefix = v.prefix, sequence_number = v.number,
                          made_sequence_gap = v.gap %s
                     FROM unnest(%s::int[], %s::varchar[], %s::varchar[], %s::int[], %s::bool[])
                          AS v(id, name, prefix, number, gap)
                    WHERE m.id = v.id""",
                _assignments(following),
                list(ids),
                list(names),
                list(prefixes),
                list(numbers),
                list(gaps),
            )
        )
        self.env.invalidate_all()
        return {row[0]: row[1] for row in rows}

    # ------------------------------------------------------------------ reconciliation
    @api.model
    def _reconcile(self, plans):
        """Partials, full reconciliations, matching numbers and residuals of ``plans`` [(credit line
        id of a payment, open receivable line ids of its invoice)], as ``_reconcile_plan`` stores
        them in one currency: the ids of the journal items it changed."""
        all_ids = sorted({line_id for credit, debits in plans for line_id in (credit, *debits)})
        self.env.cr.execute(
            """SELECT id, date, date_maturity, amount_currency, balance, amount_residual, matching_number
                 FROM account_move_line WHERE id = ANY(%s)""",
            [all_ids],
        )
        info = {row[0]: row for row in self.env.cr.fetchall()}
        residual = {line_id: row[5] for line_id, row in info.items()}
        partials = []
        for credit, debits in plans:
            partials += self._plan_partials((credit, *debits), info, residual)
        if not partials:
            return set()
        partial_ids = self._insert_partials(partials, all_ids)
        numbers = sorted({info[line_id][6] for line_id in all_ids if info[line_id][6]})
        groups = self._matched_groups(numbers, partials, partial_ids)
        return self._write_matching(plans, residual, *groups)

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
    def _insert_partials(self, partials, line_ids):
        partial_ids = reserve_ids(self.env, "account_partial_reconcile", len(partials))
        self.env.cr.execute(
            """SELECT l.id, l.company_id, l.currency_id, l.date, m.move_type
                 FROM account_move_line l JOIN account_move m ON m.id = l.move_id WHERE l.id = ANY(%s)""",
            [line_ids],
        )
        lines = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        invoice_types = self.env["account.move"].get_invoice_types(include_receipts=True)
        rows = []
        for partial_id, (debit_id, credit_id, amount) in zip(partial_ids, partials, strict=True):
            debit, credit = lines[debit_id], lines[credit_id]
            rows.append(
                {
                    "id": partial_id,
                    "debit_move_id": debit_id,
                    "credit_move_id": credit_id,
                    "debit_currency_id": debit[1],
                    "credit_currency_id": credit[1],
                    # account.partial.reconcile._compute_company_id
                    "company_id": debit[0] if debit[3] in invoice_types else credit[0],
                    "max_date": max(debit[2], credit[2]),
                    "amount": amount,
                    "debit_amount_currency": amount,
                    "credit_amount_currency": amount,
                }
            )
        self._insert(self.env["account.partial.reconcile"], rows)
        return partial_ids

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
    def _write_matching(self, plans, residual, find, group_lines, group_partials):
        """Full reconciliations of the groups left with nothing to match (in the order of the plans,
        as stock walks them), matching numbers, residuals: the ids of the journal items written."""
        cr = self.env.cr
        currency = self.env.company.currency_id
        cr.execute(
            """SELECT id, amount_residual, amount_residual_currency, reconciled
                 FROM account_move_line WHERE id = ANY(%s)""",
            [sorted({line_id for ids in group_lines.values() for line_id in ids})],
        )
        state = {row[0]: [row[1], row[2], row[3]] for row in cr.fetchall()}
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
        full_of = {}
        if fulls:
            full_ids = reserve_ids(self.env, "account_full_reconcile", len(fulls))
            self._insert(self.env["account.full.reconcile"], [{"id": full_id} for full_id in full_ids])
            full_of = dict(zip(fulls, full_ids, strict=True))
            cr.execute_values(
                """UPDATE account_partial_reconcile p SET full_reconcile_id = v.full_id
                     FROM (VALUES %s) AS v(full_id, ids) WHERE p.id = ANY(v.ids)""",
                [(full_of[root], sorted(group_partials[root])) for root in fulls],
                page_size=1000,
            )
        updates = []
        for root, line_set in group_lines.items():
            full_id = full_of.get(root)
            # account.partial.reconcile._update_matching_number
            number = str(full_id) if full_id else f"P{min(group_partials[root])}"
            for line_id in line_set:
                value = state[line_id]
                reconciled = bool(value[2]) or (currency.is_zero(value[0]) and currency.is_zero(value[1]))
                updates.append((line_id, value[0], value[1], reconciled, full_id, number))
        cr.execute_values(
            """UPDATE account_move_line l
                  SET amount_residual = v.residual, amount_residual_currency = v.residual_currency,
                      reconciled = v.reconciled, full_reconcile_id = v.full_id, matching_number = v.number,
                      write_uid = v.uid, write_date = v.now
                 FROM (VALUES %s) AS v(id, residual, residual_currency, reconciled, full_id, number, uid, now)
                WHERE l.id = v.id""",
            [(*update, self.env.uid, cr.now()) for update in updates],
            template="(%s, %s::numeric, %s::numeric, %s, %s::integer, %s, %s, %s::timestamp)",
            page_size=1000,
        )
        return {row[0] for row in updates}

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
    def _settle_payments(self, payments, line_ids):
        """The payments' reconciliation status and state once their journal items are matched
        (``_compute_reconciliation_status``, ``_compute_state``)."""
        self.env.cr.execute(
            """SELECT pay.id,
                      SUM(l.amount_residual) FILTER (WHERE l.id = ANY(%(counterparts)s) AND acc.reconcile),
                      SUM(l.amount_residual) FILTER (WHERE l.account_id = pay.outstanding_account_id),
                      BOOL_OR(l.account_id = j.default_account_id),
                      BOOL_OR(acc.reconcile) FILTER (WHERE l.account_id = pay.outstanding_account_id)
                 FROM account_payment pay
                 JOIN account_journal j ON j.id = pay.journal_id
                 JOIN account_move_line l ON l.move_id = pay.move_id
                 JOIN account_account acc ON acc.id = l.account_id
                WHERE pay.id = ANY(%(payments)s)
                GROUP BY pay.id""",
            {"payments": payments.ids, "counterparts": line_ids[1::2]},
        )
        fetched = self.env.cr.fetchall()
        currency = self.env.company.currency_id
        rows = []
        for payment_id, counterpart_residual, liquidity_residual, on_default, liquidity_reconcilable in fetched:
            reconciled = currency.is_zero(counterpart_residual or 0.0)
            matched = bool(on_default) or currency.is_zero(liquidity_residual or 0.0)
            paid = currency.is_zero(liquidity_residual or 0.0) or not liquidity_reconcilable
            rows.append((payment_id, "paid" if paid else "in_process", bool(reconciled), matched))
        self.env.cr.execute_values(
            """UPDATE account_payment p SET state = v.state, is_reconciled = v.reconciled, is_matched = v.matched
                 FROM (VALUES %s) AS v(id, state, reconciled, matched) WHERE p.id = v.id""",
            rows,
            page_size=1000,
        )
        payments.invalidate_recordset()
