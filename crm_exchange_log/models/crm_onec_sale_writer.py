import logging
import re
from collections import Counter, defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_repr, float_round

#: the stored amounts of ``account.move._compute_amount`` (both writers set them themselves)
MOVE_AMOUNTS = (
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "amount_untaxed_signed",
    "amount_untaxed_in_currency_signed",
    "amount_tax_signed",
    "amount_total_signed",
    "amount_total_in_currency_signed",
    "amount_residual_signed",
)
#: the keys of a document's vals the writer knows (``crm.onec.connector._sale_vals`` and the batch's)
SALE_KEYS = {
    "move_type",
    "partner_id",
    "invoice_date",
    "date",
    "currency_id",
    "ref",
    "payment_reference",
    "invoice_line_ids",
    "journal_id",
    "company_id",
    "crm_onec_ref",
}
_logger = logging.getLogger(__name__)
LINE_KEYS = {"name", "quantity", "price_unit", "tax_ids", "analytic_distribution"}
#: columns of account_move the writer sets itself; every other stored column takes what the ORM
#: computes for a draft with the same partner, type and currency (``new``)
MOVE_COLUMNS = {
    "name",
    "sequence_prefix",
    "sequence_number",
    "made_sequence_gap",
    "state",
    "posted_before",
    "journal_id",
    "company_id",
    "partner_id",
    "commercial_partner_id",
    "currency_id",
    "move_type",
    "date",
    "invoice_date",
    "invoice_date_due",
    "ref",
    "payment_reference",
    "crm_onec_ref",
    "invoice_currency_rate",
    "invoice_payment_term_id",
    *MOVE_AMOUNTS,
    "payment_state",
    "is_manually_modified",
}
LOG_COLUMNS = {"id", "create_uid", "create_date", "write_uid", "write_date"}
#: ``cr.cache`` entry of the header values computed on the cursor: {fingerprint: values}
HEADERS = "crm_onec_sale_writer.headers"
#: the most kept (one a customer, type and currency: a first load of 10,000 customers fits)
HEADERS_KEPT = 50000
#: columns of res_partner that posting changes and no header value reads
PARTNER_COUNTERS = ["customer_rank", "supplier_rank", "write_date"]
#: what header values read besides the customer, company, journal and currency (all rows of each)
HEADER_SETTINGS = (
    "ir.config_parameter",
    "ir.default",
    "res.users",
    "res.partner.bank",
    "account.fiscal.position",
    "account.fiscal.position.account",
    "crm.team",
    "crm.team.member",
)


class _Refused(Exception):
    """The chunk is not one the writer reproduces exactly: the ORM creates and posts it."""


class CrmOnecSaleWriter(models.AbstractModel):
    """Set-based writer of the sales and returns mirrored from 1C (the first load of history):
    posted customer invoices and credit notes without taxes, with their journal items, written
    with a few INSERTs per chunk and the values ``create`` + ``action_post`` would store for the
    same vals. A chunk it does not reproduce exactly is refused (:meth:`_refusal`) and goes
    through the ORM."""

    _name = "crm.onec.sale.writer"
    _description = "1C Sales Writer"

    # ------------------------------------------------------------------ eligibility
    @api.model
    def _refusal(self, company, journal, vals_list):
        """Why the chunk must go through the ORM (False when the writer reproduces it)."""
        try:
            context, moves = self._prepare(company, journal, vals_list)
            rates = {}
            for move in moves:
                self._compute_amounts(company, move, context, rates)
        except _Refused as reason:
            return str(reason)
        return False

    @api.model
    def _prepare(self, company, journal, vals_list):
        """(context of the chunk, [move values]) or _Refused."""
        if not vals_list:
            raise _Refused("nothing to write")
        self._check_journal(journal)
        Move = self.env["account.move"].sudo().with_company(company)
        today = fields.Date.context_today(Move)
        # the customers read together (the documents' partners prefetched as one recordset)
        customers = self.env["res.partner"].sudo().with_company(company).browse({v["partner_id"] for v in vals_list})
        partners = {partner.id: self._partner_context(company, partner) for partner in customers}
        moves, firsts = [], {}
        for vals in vals_list:
            date, lines = self._document_lines(company, journal, vals)
            partner_id = vals["partner_id"]
            key = (partner_id, vals["move_type"], vals["currency_id"])
            firsts.setdefault(key, vals)
            moves.append({"vals": vals, "date": date, "lines": lines, "key": key})
        context = {
            "partners": partners,
            "news": self._header_values(Move, journal, firsts),
            "incomes": self._income_accounts(company, journal, partners, {key[:2] for key in firsts}),
            "today": today,
        }
        return context, moves

    @api.model
    def _check_journal(self, journal):
        if journal.type != "sale" or not journal.active or journal.currency_id or journal.restrict_mode_hash_table:
            # a hash-locked journal: posting secures the entries (the ORM does it)
            raise _Refused("journal not plain")
        if "account_control_ids" in journal._fields and journal.account_control_ids:
            raise _Refused("journal restricts its accounts")
        if not journal.default_account_id:
            raise _Refused("no income account")
        if self.env["account.analytic.distribution.model"].sudo().search_count([], limit=1):
            raise _Refused("analytic distribution models")

    @api.model
    def _document_lines(self, company, journal, vals):
        """(date, line vals) of a document the writer reproduces, else _Refused."""
        if set(vals) - SALE_KEYS or vals.get("move_type") not in ("out_invoice", "out_refund"):
            raise _Refused("unknown values")
        if vals["journal_id"] != journal.id or vals["company_id"] != company.id:
            raise _Refused("another journal")
        if not vals.get("partner_id") or not vals.get("currency_id"):
            raise _Refused("no customer or currency")  # posting refuses it
        date = fields.Date.to_date(vals["date"])
        if fields.Date.to_date(vals["invoice_date"]) != date:
            raise _Refused("dates")
        if company._get_violated_lock_dates(date, False, journal):
            # posting would move the date (or refuse): the ORM does it
            raise _Refused("lock date")
        lines = []
        for command in vals["invoice_line_ids"]:
            line = command[2] if command[0] == fields.Command.CREATE else None
            if not line or set(line) - LINE_KEYS or line.get("tax_ids") or line.get("analytic_distribution"):
                raise _Refused("line values")
            lines.append(line)
        if not lines:
            raise _Refused("no line")
        return date, lines

    @api.model
    def _income_accounts(self, company, journal, partners, keys):
        """{(partner, move type): account of its lines without product}, as ``_compute_account_id``
        gives it (``account.account._get_most_frequent_account_for_partner``: the account of the
        customer's items used most in two years, of the income group for an invoice, of the
        expense group for a credit note), else the journal's; one query for the chunk."""
        Line = self.env["account.move.line"].sudo()
        Account = self.env["account.account"].sudo()
        inbound = self.env["account.move"].get_inbound_types(include_receipts=True)
        found = {}
        for group in ("income", "expense"):
            types = {move_type for _partner_id, move_type in keys if (move_type in inbound) == (group == "income")}
            if not types:
                continue
            commercial = {partners[partner_id]["commercial"].id for partner_id, move_type in keys if move_type in types}
            query = Line._where_calc(
                [
                    *Line._check_company_domain(company.id),
                    ("partner_id", "in", sorted(commercial)),
                    ("account_id.deprecated", "=", False),
                    ("date", ">=", fields.Date.add(fields.Date.today(), days=-365 * 2)),
                    "|",
                    ("account_id.allowed_journal_ids", "=", journal.id),
                    ("account_id.allowed_journal_ids", "=", False),
                    ("account_id.internal_group", "=", group),
                ]
            )
            code = Account.with_company(company)._field_to_sql("account_move_line__account_id", "code", query)
            rows = self.env.execute_query(
                SQL(
                    """SELECT DISTINCT ON (partner_id) partner_id, account_id
                         FROM (SELECT account_move_line.partner_id, account_move_line__account_id.id AS account_id,
                                      COUNT(account_move_line.id) AS used, MAX(%(code)s) AS code
                                 FROM %(from_clause)s
                                WHERE %(where_clause)s
                             GROUP BY account_move_line.partner_id, account_move_line__account_id.id) used
                     ORDER BY partner_id, used DESC, code""",
                    code=code,
                    from_clause=query.from_clause,
                    where_clause=query.where_clause or SQL("TRUE"),
                )
            )
            found.update({(partner_id, group): account_id for partner_id, account_id in rows})
        incomes = {}
        for partner_id, move_type in keys:
            group = "income" if move_type in inbound else "expense"
            account = Account.browse(found.get((partners[partner_id]["commercial"].id, group)))
            account = account or journal.default_account_id
            if account.deprecated:
                raise _Refused("deprecated income account")
            incomes[(partner_id, move_type)] = account
        return incomes

    @api.model
    def _partner_context(self, company, partner):
        commercial = partner.commercial_partner_id
        receivable = commercial.property_account_receivable_id
        if not receivable or receivable.deprecated or receivable.account_type != "asset_receivable":
            raise _Refused("receivable account")
        term = partner.property_payment_term_id
        if term and (len(term.line_ids) != 1 or term.early_discount):
            raise _Refused("payment term")
        position = self.env["account.fiscal.position"].sudo().with_company(company)._get_fiscal_position(partner)
        if position and position.account_ids:
            raise _Refused("fiscal position maps accounts")
        return {"commercial": commercial, "receivable": receivable, "term": term}

    @api.model
    def _header_values(self, Move, journal, firsts):
        """{key: the stored columns the writer does not compute itself}, as the ORM computes them
        for a draft of this partner, type and currency (``firsts``: the first vals of each key):
        kept on the cursor for the next chunks under what they depend on (:meth:`_header_fingerprints`)."""
        kept = self.env.cr.cache.setdefault(HEADERS, {})
        fingerprints = self._header_fingerprints(Move, journal, firsts)
        news = {key: kept[fingerprints[key]] for key in firsts if fingerprints.get(key) in kept}
        computed = self._compute_header_values(Move, {key: vals for key, vals in firsts.items() if key not in news})
        if len(kept) + len(computed) > HEADERS_KEPT:
            kept.clear()
        kept.update({fingerprints[key]: values for key, values in computed.items() if key in fingerprints})
        return {**news, **computed}

    @api.model
    def _header_fingerprints(self, Move, journal, firsts):
        """{key: what its header values depend on}, for the keys whose values may be kept:
        the key and the journal and company (no column reads the document's date or references:
        the first document of a key stands for the others); the rows of the customer's commercial
        entity (the customer, its commercial partner, its delivery address), of the company and
        of the journal, by content (a transaction writes them all at the same date); the last
        write and count of the settings' rows (not kept while the transaction writes them); the
        currency's active flag, today, the user, its language and the context's defaults."""
        company = Move.env.company
        for model in ("res.partner", "res.company", "account.journal", *HEADER_SETTINGS):
            if model in self.env:
                self.env[model].flush_model()
        entities = dict(
            self.env.execute_query(
                SQL(
                    """SELECT p.id, md5(string_agg((to_jsonb(e) - %s::text[])::text, ',' ORDER BY e.id))
                         FROM res_partner p JOIN res_partner e ON e.commercial_partner_id = p.commercial_partner_id
                        WHERE p.id = ANY(%s)
                     GROUP BY p.id""",
                    PARTNER_COUNTERS,
                    sorted({key[0] for key in firsts}),
                )
            )
        )
        tables = [SQL.identifier(self.env[model]._table) for model in HEADER_SETTINGS if model in self.env]
        [(settings, written)] = self.env.execute_query(
            SQL(
                """SELECT md5(concat((SELECT to_jsonb(c) FROM res_company c WHERE c.id = %s),
                                     (SELECT to_jsonb(j) FROM account_journal j WHERE j.id = %s), %s)),
                          GREATEST(%s) >= (now() AT TIME ZONE 'UTC')""",
                company.id,
                journal.id,
                SQL(", ").join(
                    SQL("(SELECT concat(count(*), ':', max(write_date)) FROM %s)", table) for table in tables
                ),
                SQL(", ").join(SQL("(SELECT max(write_date) FROM %s)", table) for table in tables),
            )
        )
        if written:
            return {}
        context = Move.env.context
        shared = (
            journal.id,
            company.id,
            settings,
            fields.Date.context_today(Move),
            Move.env.uid,
            Move.env.lang,
            repr(sorted((name, value) for name, value in context.items() if name.startswith("default_"))),
        )
        return {
            key: (key, entities[key[0]], self.env["res.currency"].browse(key[2]).active, *shared)
            for key in firsts
            if key[0] in entities
        }

    @api.model
    def _compute_header_values(self, Move, firsts):
        """The header values of ``firsts``' keys: one ``new`` record per key, computed together."""
        if not firsts:
            return {}
        keys = sorted(firsts, key=lambda key: (Move.env["res.partner"].browse(key[0]).user_id.id or 0, key))
        drafts = Move.concat(
            *(
                Move.new({name: value for name, value in firsts[key].items() if name != "invoice_line_ids"})
                for key in keys
            )
        )
        columns = [field for field in self._columns(Move) if field.name not in MOVE_COLUMNS]
        defaults = Move.default_get([field.name for field in columns])
        news = {}
        for key, draft in zip(keys, drafts, strict=True):
            if draft.partner_bank_id and not draft.partner_bank_id.active:
                raise _Refused("archived bank account")
            if draft.display_inactive_currency_warning:
                raise _Refused("inactive currency")
            if draft.fiscal_position_id.account_ids:
                raise _Refused("fiscal position maps accounts")
            values = news[key] = {}
            for field in columns:
                if not field.compute and field.name not in defaults:
                    values[field.name] = None  # neither computed nor defaulted: create leaves it empty
                    continue
                value = draft[field.name]
                values[field.name] = value.id if field.type == "many2one" else field.convert_to_write(value, draft)
        return news

    @api.model
    def _columns(self, model):
        return [
            field
            for field in model._fields.values()
            if field.store and field.column_type and field.name not in LOG_COLUMNS
        ]

    # ------------------------------------------------------------------ writing
    @api.model
    def _write(self, company, journal, vals_list):
        """Write the chunk's documents posted, with their journal items: the ``account.move``
        records, in the order of ``vals_list``; None (nothing written) when the chunk is not one it
        reproduces exactly (the caller then creates and posts it with the ORM)."""
        try:
            context, moves = self._prepare(company, journal, vals_list)
            rates = {}
            for move in moves:
                self._compute_amounts(company, move, context, rates)
        except _Refused as reason:
            _logger.info("%s sales from 1C go the ORM way: %s", len(vals_list), reason)
            return None
        Move = self.env["account.move"].sudo().with_company(company)
        Line = self.env["account.move.line"].sudo()
        company_currency = company.currency_id
        # the documents, unnamed (posted, as posting numbers them): one INSERT
        now = self.env.cr.now()
        log = {"create_uid": self.env.uid, "create_date": now, "write_uid": self.env.uid, "write_date": now}
        # no gap until the numbers say otherwise (_assign_names writes the gaps only)
        rows = [{**context["news"][move["key"]], **move["header"], "made_sequence_gap": False, **log} for move in moves]
        ids = self._insert(Move, rows)
        records = Move.browse(ids)
        for move, move_id in zip(moves, ids, strict=True):
            move["id"] = move_id
        self._assign_names(records, moves)
        # the journal items: one INSERT
        line_rows = []
        for move in moves:
            for line in move["line_rows"]:
                line_rows.append(
                    {
                        **line,
                        "move_id": move["id"],
                        "move_name": move["header"]["name"],
                        "journal_id": journal.id,
                        "company_id": company.id,
                        "company_currency_id": company_currency.id,
                        "currency_id": move["header"]["currency_id"],
                        "partner_id": move["header"]["commercial_partner_id"],
                        "parent_state": "posted",
                        "ref": move["header"]["ref"],
                        "date": move["date"],
                        "invoice_date": move["date"],
                        **log,
                    }
                )
        self._insert(Line, line_rows)
        self.env.invalidate_all()
        self._after_post(records, moves, context)
        return records

    @api.model
    def _compute_amounts(self, company, move, context, rates):
        """The journal items' amounts and the document's totals, with the tax engine's own
        rounding (as ``_sync_tax_lines`` computes them on a draft), at the date's rate."""
        AccountTax = self.env["account.tax"]
        vals = move["vals"]
        currency = self.env["res.currency"].browse(vals["currency_id"])
        company_currency = company.currency_id
        rate_key = (currency.id, move["date"])
        if rate_key not in rates:
            rates[rate_key] = self.env["res.currency"]._get_conversion_rate(
                from_currency=company_currency, to_currency=currency, company=company, date=move["date"]
            )
        rate = rates[rate_key]
        refund = vals["move_type"] == "out_refund"
        sign = 1 if refund else -1  # direction_sign of a customer document
        base_lines = [
            AccountTax._prepare_base_line_for_taxes_computation(
                {},
                price_unit=line.get("price_unit") or 0.0,
                quantity=line.get("quantity", 1.0),
                discount=0.0,
                currency_id=currency,
                rate=rate,
                sign=sign,
                is_refund=refund,
                special_mode=False,
                tax_ids=AccountTax,
            )
            for line in move["lines"]
        ]
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        partner = context["partners"][vals["partner_id"]]
        term = partner["term"]
        # without a payment term, a new invoice falls due today (stock _compute_invoice_date_due)
        due = term.line_ids._get_due_date(move["date"]) if term else context["today"]
        line_rows = []
        total, total_currency = 0.0, 0.0
        for line, base_line in zip(move["lines"], base_lines, strict=True):
            details = base_line["tax_details"]
            amount_currency = currency.round(
                sign * (details["total_excluded_currency"] + details["delta_total_excluded_currency"])
            )
            balance = company_currency.round(sign * (details["total_excluded"] + details["delta_total_excluded"]))
            total += balance
            total_currency += amount_currency
            line_rows.append(
                self._line_row(
                    sequence=100,
                    display_type="product",
                    account=context["incomes"][(vals["partner_id"], vals["move_type"])],
                    name=line.get("name"),
                    balance=balance,
                    amount_currency=amount_currency,
                    quantity=line.get("quantity", 1.0),
                    price_unit=line.get("price_unit") or 0.0,
                    price_subtotal=currency.round(details["raw_total_excluded_currency"]),
                    price_total=currency.round(details["raw_total_included_currency"]),
                    date_maturity=False,
                    currency=currency,
                )
            )
        if currency.compare_amounts(sign * total_currency, 0.0) <= 0:
            # negative: posting refuses it; zero: posting marks it paid (the ORM does both)
            raise _Refused("total not positive")
        total = company_currency.round(total)
        total_currency = currency.round(total_currency)
        line_rows.append(
            self._line_row(
                sequence=12000,
                display_type="payment_term",
                account=partner["receivable"],
                name=vals.get("payment_reference") or "",
                balance=-total,
                amount_currency=-total_currency,
                quantity=0.0,
                price_unit=0.0,
                price_subtotal=0.0,
                price_total=0.0,
                date_maturity=due,
                currency=currency,
                residual=True,
            )
        )
        move["line_rows"] = line_rows
        journal = self.env["account.journal"].browse(vals["journal_id"])
        move["header"] = {
            # posting checks the entries of a journal that says so, else keeps what the draft has
            **({"checked": True} if journal.autocheck_on_post else {}),
            "state": "posted",
            "posted_before": True,
            "journal_id": vals["journal_id"],
            "company_id": vals["company_id"],
            "partner_id": vals["partner_id"],
            "commercial_partner_id": partner["commercial"].id,
            "currency_id": currency.id,
            "move_type": vals["move_type"],
            "date": move["date"],
            "invoice_date": move["date"],
            "invoice_date_due": due,
            "ref": vals.get("ref") or None,
            "payment_reference": vals.get("payment_reference") or None,
            "crm_onec_ref": vals.get("crm_onec_ref") or None,
            "invoice_currency_rate": rate,
            "invoice_payment_term_id": term.id or None,
            "amount_untaxed": currency.round(sign * total_currency),
            "amount_tax": 0.0,
            "amount_total": currency.round(sign * total_currency),
            "amount_residual": currency.round(sign * total_currency),
            "amount_untaxed_signed": -total,
            "amount_untaxed_in_currency_signed": -total_currency,
            "amount_tax_signed": 0.0,
            "amount_total_signed": -total,
            "amount_total_in_currency_signed": -total_currency,
            "amount_residual_signed": -total,
            "payment_state": "not_paid",
            # written False by the lines' synchronisation of create (posting does not mark it)
            "is_manually_modified": False,
        }

    @api.model
    def _line_row(self, **values):
        balance = values["balance"]
        return {
            "sequence": values["sequence"],
            "display_type": values["display_type"],
            "account_id": values["account"].id,
            "name": values["name"] or None,
            "balance": balance,
            "debit": balance if balance > 0 else 0.0,
            "credit": -balance if balance < 0 else 0.0,
            "amount_currency": values["amount_currency"],
            "amount_residual": balance if values.get("residual") else 0.0,
            "amount_residual_currency": values["amount_currency"] if values.get("residual") else 0.0,
            "reconciled": False,
            "quantity": values["quantity"],
            "price_unit": values["price_unit"],
            "price_subtotal": values["price_subtotal"],
            "price_total": values["price_total"],
            "discount": 0.0,
            "date_maturity": values["date_maturity"] or None,
            "tax_tag_invert": False,
            # what the payment term's synchronisation writes on its line only
            "discount_amount_currency": 0.0 if values.get("residual") else None,
            "discount_balance": 0.0 if values.get("residual") else None,
        }

    @api.model
    def _insert(self, model, rows):
        """One INSERT of ``rows`` ({column: value in the ORM's write format}), converted as the
        ORM converts them (floats at their digits, money at its currency's): their ids."""
        columns = sorted({name for row in rows for name in row})
        converters = [self._converter(model, model._fields[name]) for name in columns]
        values = [
            tuple(
                None if row.get(name) is None else convert(row[name], row)
                for name, convert in zip(columns, converters, strict=True)
            )
            for row in rows
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(model._table),
                SQL(", ").join(map(SQL.identifier, columns)),
                SQL(", ").join(values),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _converter(self, model, field):
        if field.type == "monetary":
            currency_field = field.get_currency_field(model)
            currencies = {}

            def monetary(value, row):
                currency_id = row.get(currency_field)
                if currency_id not in currencies:
                    currency = self.env["res.currency"].browse(currency_id)
                    currencies[currency_id] = (currency.rounding, currency.decimal_places) if currency_id else None
                if currencies[currency_id] is None:
                    return float(value or 0.0)
                rounding, places = currencies[currency_id]
                return float_repr(float_round(value or 0.0, precision_rounding=rounding), places)

            return monetary
        if field.type == "float":
            digits = field.get_digits(self.env)

            def float_(value, row):
                if not digits:
                    return float(value or 0.0)
                return float_repr(float_round(float(value or 0.0), precision_digits=digits[1]), digits[1])

            return float_
        # values already in the write format: what convert_to_column gives them, without its cost
        if field.type == "boolean":
            return lambda value, row: bool(value)
        if field.type == "integer":
            return lambda value, row: int(value or 0)
        if field.type in ("many2one", "char", "text", "selection", "date", "datetime") and not field.translate:
            return lambda value, row: None if value is False else value
        return lambda value, row: field.convert_to_column_insert(value, model, row)

    @api.model
    def _assign_names(self, records, moves):
        """Number the documents as posting does: sorted by (date, ref, id), each from the journal's
        sequence through ``sequence.mixin`` (the first of a sequence takes stock's lock on its
        number, the next ones follow in the transaction's cache); the names, their split and
        ``made_sequence_gap`` stored in one UPDATE."""
        ordered = sorted(moves, key=lambda move: (move["date"], move["vals"].get("ref") or "", move["id"]))
        Move = records.browse()
        regex = Move._make_regex_non_capturing(Move._sequence_fixed_regex.replace(r"?P<seq>", ""))
        # posting asks the format of every document (a query each); it is the same for the dates of
        # a month when the journal's numbers restart yearly, monthly or never: asked once a month then
        records.fetch(["journal_id", "date", "move_type", "name", "state"])  # read once for the chunk
        formats, unstored, stored = {}, [], []
        for move in ordered:
            record = records.browse(move["id"])
            month = (move["vals"]["move_type"], move["date"].year, move["date"].month)
            known = formats.get(month)
            if known and (not known["per_date"] or known["date"] == move["date"]):
                name = record._locked_increment(known["format"], dict(known["values"]))
            else:
                # the format is read from the journal's last numbers: those given so far are stored
                # first, as posting has them flushed when it asks
                self._store_names(unstored)
                stored += unstored
                unstored = []
                format_string, format_values = record._get_next_sequence_format()
                name = record._locked_increment(format_string, dict(format_values))
                reset = record._deduce_sequence_number_reset(name)
                formats[month] = {
                    "format": format_string,
                    "values": format_values,
                    "per_date": reset not in ("year", "month", "never"),
                    "date": move["date"],
                }
            matching = re.match(regex, name)
            move["header"].update(name=name, sequence_prefix=name[: matching.start(1)])
            move["header"]["sequence_number"] = int(matching.group(1) or 0)
            unstored.append(move)
        # made_sequence_gap: the number before is neither in the chunk nor in the journal
        numbers = defaultdict(set)
        for move in moves:
            numbers[move["header"]["sequence_prefix"]].add(move["header"]["sequence_number"])
        previous = {
            (prefix, number - 1)
            for prefix, chunk in numbers.items()
            for number in chunk
            if number > 1 and number - 1 not in chunk
        }
        found = set()
        if previous:
            prefixes, numbers_ = zip(*previous, strict=True)
            found = set(
                self.env.execute_query(
                    SQL(
                        """SELECT m.sequence_prefix, m.sequence_number FROM account_move m
                             JOIN unnest(%s::varchar[], %s::int[]) AS p(prefix, number)
                               ON m.sequence_prefix = p.prefix AND m.sequence_number = p.number
                            WHERE m.journal_id = %s""",
                        list(prefixes),
                        list(numbers_),
                        moves[0]["header"]["journal_id"],
                    )
                )
            )
        for move in moves:
            prefix, number = move["header"]["sequence_prefix"], move["header"]["sequence_number"]
            move["header"]["made_sequence_gap"] = (
                number > 1 and number - 1 not in numbers[prefix] and (prefix, number - 1) not in found
            )
        # each row written once more at most: those stored above only when they open a gap
        self._store_names(unstored + [move for move in stored if move["header"]["made_sequence_gap"]], gap=True)

    @api.model
    def _store_names(self, moves, gap=False):
        if not moves:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m
                      SET name = v.name, sequence_prefix = v.prefix, sequence_number = v.number,
                          made_sequence_gap = CASE WHEN %s THEN v.gap ELSE m.made_sequence_gap END
                     FROM unnest(%s::int[], %s::varchar[], %s::varchar[], %s::int[], %s::bool[])
                          AS v(id, name, prefix, number, gap)
                    WHERE m.id = v.id""",
                gap,
                [move["id"] for move in moves],
                [move["header"]["name"] for move in moves],
                [move["header"]["sequence_prefix"] for move in moves],
                [move["header"]["sequence_number"] for move in moves],
                [bool(move["header"].get("made_sequence_gap")) for move in moves],
            )
        )
        self.env["account.move"].browse([move["id"] for move in moves]).invalidate_recordset(
            ["name", "sequence_prefix", "sequence_number", "made_sequence_gap"]
        )

    @api.model
    def _after_post(self, records, moves, context):
        """What posting does besides the rows: the customers follow their documents (with the
        chunk's other followers), their customer rank grows, and the KPIs count the documents.
        The anomaly check of crm_single_truth's ``_post`` is skipped: these are historic mirrors
        of what 1C already booked."""
        self.env["crm.onec.connector"]._subscribe_deferred([(move["id"], move["vals"]["partner_id"]) for move in moves])
        # as posting: each partner and its commercial entity, once per document
        Partner = self.env["res.partner"].sudo()
        increments = Counter()
        for partner_id, count in Counter(move["vals"]["partner_id"] for move in moves).items():
            for rank_id in {partner_id, context["partners"][partner_id]["commercial"].id}:
                increments[rank_id] += count
        by_count = defaultdict(list)
        for rank_id, count in increments.items():
            by_count[count].append(rank_id)
        for count, partner_ids in sorted(by_count.items()):
            Partner.browse(sorted(partner_ids))._increase_rank("customer_rank", count)
        if "crm.partner.kpi" in self.env:
            self.env["crm.partner.kpi"]._crm_touch("account.move", records.ids, new=True)
