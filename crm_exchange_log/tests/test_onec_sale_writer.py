from datetime import datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from ..models.crm_onec_sale_writer import HEADERS
from ..services import enterprise_data as ed

#: columns that differ between two writings of the same documents by nature
LOG_COLUMNS = {"id", "create_date", "write_date", "create_uid", "write_uid"}
#: the time a new customer is created at (calendar's default now()): not the documents' writing
TIME_COLUMNS = {"calendar_last_notif_ack"}
KPI_FIELDS = (
    "crm_ltv",
    "crm_order_count",
    "crm_first_order_date",
    "crm_last_order_date",
    "crm_debt",
    "crm_overdue_debt",
    "customer_rank",
)


@tagged("post_install", "-at_install")
class TestOnecSaleWriter(TransactionCase):
    maxDiff = None
    """The set-based writer of 1C's sales stores, column by column, what ``create`` +
    ``action_post`` store for the same chunk; what it cannot reproduce goes through the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company = cls.env.company
        cls.Connector = (
            cls.env["crm.onec.connector"]
            .sudo()
            .with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        )
        cls.known = cls.env["res.partner"].create(
            {
                "name": "ТОО «Известный»",
                "is_company": True,
                "crm_onec_ref": "bbbb0000-0000-4000-8000-000000000001",
            }
        )
        cls.foreign = cls.env.ref("base.KZT")
        if cls.foreign == cls.company.currency_id:
            cls.foreign = cls.env.ref("base.EUR")
        cls.foreign.active = True
        cls.day = fields.Date.context_today(cls.Connector) - timedelta(days=30)
        cls.env["res.currency.rate"].create(
            {"name": cls.day, "rate": 471.123457, "currency_id": cls.foreign.id, "company_id": cls.company.id}
        )
        cls.journal = cls.Connector._onec_journal(cls.company)
        # the known customer pays in 30 days, and its earlier sale went to another income account
        # (the account its lines without product take: the one it used most)
        cls.known.property_payment_term_id = cls.env["account.payment.term"].create(
            {
                "name": "30 days",
                "line_ids": [fields.Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})],
            }
        )
        income = cls.journal.default_account_id
        cls.other_income = income.copy({"code": f"{income.code}9"})
        earlier = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.known.id,
                "journal_id": cls.journal.id,
                "invoice_date": cls.day - timedelta(days=60),
                "invoice_line_ids": [
                    fields.Command.create(
                        {"name": "Ранее", "quantity": 1, "price_unit": 100, "account_id": cls.other_income.id}
                    )
                ],
            }
        )
        earlier.action_post()

    def _sale(self, number, lines, partner, days_ago=0, kind=ed.SALE, currency=None):
        currency = currency or self.company.currency_id
        return (ed.sale if kind == ed.SALE else ed.sale_return)(
            {
                "ref": f"cccc0000-0000-4000-8000-{number:012d}",
                "date": datetime.combine(self.day - timedelta(days=days_ago), datetime.min.time()).replace(hour=9),
                "number": f"0000-{number:06d}",
                "organization": {"name": self.company.name, "inn": False},
                "currency": {"code": str(currency.iso_numeric).zfill(3), "name": currency.name},
                "amount_total": sum(line["amount"] for line in lines),
                "price_include": True,
                "partner": partner,
                "lines": lines,
            }
        )

    def _line(self, name, quantity, amount):
        return {"name": name, "quantity": quantity, "amount": Decimal(amount), "price": None, "vat_rate": None}

    def _chunk(self):
        new = {"ref": "bbbb0000-0000-4000-8000-000000000002", "name": "ТОО «Новый»", "is_company": True}
        other = {"ref": "bbbb0000-0000-4000-8000-000000000003", "name": "ИП Другой", "is_company": False}
        known = {"ref": self.known.crm_onec_ref, "name": self.known.name, "is_company": True}
        return [
            # several lines: one whose price needs rounding (0.3 x 3.33 = 0.999 -> 1.00), one of zero
            self._sale(
                1,
                [self._line("Станок", 2, "5000.00"), self._line("Гайка", "0.3", "1.00"), self._line("Бонус", 1, "0")],
                known,
            ),
            self._sale(2, [self._line("Монтаж", 3, "1000.00")], new, days_ago=2),
            # in a foreign currency, at the rate of its date
            self._sale(3, [self._line("Запчасти", 7, "123456.70")], new, currency=self.foreign),
            self._sale(4, [self._line("Станок", 1, "2500.00")], known, days_ago=1, kind=ed.SALE_RETURN),
            self._sale(5, [self._line("Услуга", 1, "10.01")], other),
        ]

    # ------------------------------------------------------------------ snapshots
    def _rows(self, table, where, args):
        columns = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY column_name",
                    table,
                )
            )
            if row[0] not in LOG_COLUMNS | TIME_COLUMNS
        ]
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE %s ORDER BY id",
                SQL(", ").join(SQL.identifier(table, column) for column in columns),
                SQL.identifier(table),
                SQL(where, *args),
            )
        )
        return columns, self.env.cr.fetchall()

    def _snapshot(self, moves):
        """Every column of the written documents, journal items and followers, ids mapped to
        natural keys (documents by 1C's reference, partners by name), plus the customers' KPIs."""
        self.env["crm.partner.kpi"]._crm_apply_pending()
        self.env.flush_all()
        refs = dict(
            self.env.execute_query(SQL("SELECT id, crm_onec_ref FROM account_move WHERE id = ANY(%s)", moves.ids))
        )
        partners = moves.partner_id | moves.commercial_partner_id
        names = {partner.id: partner.name for partner in partners}

        def natural(model, columns, rows):
            mapped = []
            for row in rows:
                values = {}
                for column, value in zip(columns, row, strict=True):
                    field = self.env[model]._fields.get(column)
                    if field is not None and field.type == "many2one" and value:
                        if field.comodel_name == "account.move":
                            value = ("move", refs[value])
                        elif field.comodel_name == "res.partner":
                            value = ("partner", names.get(value, value))
                    values[column] = value
                mapped.append(values)
            return mapped

        columns, rows = self._rows("account_move", "id = ANY(%s)", [moves.ids])
        documents = natural("account.move", columns, rows)
        columns, rows = self._rows("account_move_line", "move_id = ANY(%s)", [moves.ids])
        items = sorted(
            natural("account.move.line", columns, rows),
            key=lambda item: (item["move_id"], item["display_type"] != "product", item["sequence"], item["name"] or ""),
        )
        followers = sorted(
            (refs[follower.res_id], follower.partner_id.name, tuple(sorted(follower.subtype_ids.ids)))
            for follower in self.env["mail.followers"].search(
                [("res_model", "=", "account.move"), ("res_id", "in", moves.ids)]
            )
        )
        messages = self.env["mail.message"].search_count([("model", "=", "account.move"), ("res_id", "in", moves.ids)])
        # the customers' rows (rank, KPI columns of the card) and their KPI tables, column by column
        tables = {}
        for table, column in (
            ("res_partner", "id"),
            ("crm_partner_kpi", "partner_id"),
            ("crm_partner_kpi_month", "partner_id"),
        ):
            columns, rows = self._rows(table, f"{column} = ANY(%s)", [partners.ids])
            tables[table] = sorted(
                (
                    tuple(
                        names.get(value, value) if name in ("id", "partner_id", "commercial_partner_id") else value
                        for name, value in zip(columns, row, strict=True)
                    )
                    for row in rows
                ),
                key=repr,
            )
        self.env.invalidate_all()
        kpis = {partner.name: [partner[fname] for fname in KPI_FIELDS] for partner in partners}
        return {
            "documents": documents,
            "items": items,
            "followers": followers,
            "messages": messages,
            "tables": tables,
            "kpis": kpis,
        }

    def _apply(self, nodes, orm):
        """(documents, whether the writer wrote them)"""
        Writer = type(self.env["crm.onec.sale.writer"])
        original, written = Writer._write, []

        def spy(writer, *args, **kwargs):
            result = original(writer, *args, **kwargs)
            written.append(result is not None)
            return result

        with patch.object(Writer, "_write", spy):
            moves = self.Connector.with_context(crm_onec_orm_sales=orm)._apply_sales_batch(self.company, nodes)
        return moves, written == [True]

    def _both_ways(self, nodes):
        """(snapshot of the ORM's writing, snapshot of the writer's, ORM create calls of each)."""
        savepoint = self.env.cr.savepoint()
        moves, by_orm = self._apply(nodes, orm=True)
        expected = self._snapshot(moves)
        savepoint.rollback()
        savepoint.close(rollback=False)
        # what the rolled back transaction left in memory: its numbers and pending KPI deltas
        self.env.cr.precommit.data.pop("sequence.mixin", None)
        self.env.invalidate_all()
        moves, by_writer = self._apply(nodes, orm=False)
        return expected, self._snapshot(moves), by_orm, by_writer

    # ------------------------------------------------------------------ tests
    def test_writer_stores_what_the_orm_stores(self):
        expected, written, by_orm, by_writer = self._both_ways(self._chunk())
        self.assertEqual((by_orm, by_writer), (False, True), "the writer wrote the chunk, the ORM the reference")
        self.assertEqual(len(written["documents"]), 5)
        self.assertEqual(len(written["items"]), 12)
        self.assertGreater(len(written["documents"][0]), 60, "every column compared")
        for index, (document, expected_document) in enumerate(
            zip(written["documents"], expected["documents"], strict=True)
        ):
            self.assertEqual(document, expected_document, f"document {index}")
        for index, (item, expected_item) in enumerate(zip(written["items"], expected["items"], strict=True)):
            self.assertEqual(item, expected_item, f"journal item {index}")
        self.assertEqual(written, expected)
        # the figures themselves (not only equal on both ways)
        by_ref = {document["crm_onec_ref"]: document for document in written["documents"]}
        foreign = by_ref["cccc0000-0000-4000-8000-000000000003"]
        self.assertEqual(foreign["amount_total"], 123456.70)
        self.assertEqual(
            float(foreign["amount_total_signed"]),
            self.foreign._convert(123456.70, self.company.currency_id, self.company, self.day),
        )
        refund = by_ref["cccc0000-0000-4000-8000-000000000004"]
        self.assertEqual((refund["move_type"], refund["amount_total_signed"]), ("out_refund", -2500.0))
        self.assertEqual(by_ref["cccc0000-0000-4000-8000-000000000001"]["amount_total"], 5001.0)
        self.assertEqual(written["kpis"]["ТОО «Известный»"][:2], [2601.0, 2])
        self.assertEqual(len(written["tables"]["crm_partner_kpi"]), 3)
        known = by_ref["cccc0000-0000-4000-8000-000000000001"]
        self.assertEqual(known["invoice_date_due"], self.day + timedelta(days=30))
        self.assertEqual(
            {item["account_id"] for item in written["items"] if item["display_type"] == "product"},
            {self.other_income.id, self.journal.default_account_id.id},
        )

    def test_header_values_kept_across_chunks(self):
        """The header values of a customer are computed once for the chunks of a cursor, again
        once the customer changes (its salesperson, a delivery address, its payment term): each
        chunk stored as the ORM stores it."""
        Writer = type(self.env["crm.onec.sale.writer"])
        original, computed = Writer._compute_header_values, []

        def spy(writer, Move, firsts):
            computed.append(sorted(firsts))
            return original(writer, Move, firsts)

        partner = {"ref": self.known.crm_onec_ref, "name": self.known.name, "is_company": True}
        key = (self.known.id, "out_invoice", self.company.currency_id.id)

        def chunk(number):
            return [
                self._sale(number, [self._line("Станок", 1, "700.00")], partner),
                self._sale(number + 1, [self._line("Монтаж", 2, "300.00")], partner, days_ago=3),
            ]

        self.env.cr.cache.pop(HEADERS, None)
        with patch.object(Writer, "_compute_header_values", spy):
            _moves, by_writer = self._apply(chunk(40), orm=False)
            self.assertTrue(by_writer)
            expected, written, _by_orm, by_writer = self._both_ways(chunk(42))
            self.assertTrue(by_writer)
            self.assertEqual(computed, [[key], []], "the second chunk takes the values of the first")
            self.assertEqual(written["documents"], expected["documents"])
            self.known.user_id = self.env.ref("base.user_demo")
            delivery = self.env["res.partner"].create({"name": "Склад", "type": "delivery", "parent_id": self.known.id})
            self.known.property_payment_term_id = self.env.ref("account.account_payment_term_15days")
            expected, written, _by_orm, by_writer = self._both_ways(chunk(44))
        self.assertTrue(by_writer)
        self.assertEqual(computed, [[key], [], [key]], "computed again for the changed customer")
        self.assertEqual(written["documents"], expected["documents"])
        self.assertEqual(written["items"], expected["items"])
        for document in written["documents"]:
            self.assertEqual(document["invoice_user_id"], self.env.ref("base.user_demo").id)
            self.assertEqual(document["partner_shipping_id"], ("partner", delivery.id))

    def test_followers_as_posting_subscribes(self):
        """The customers follow their documents as stock subscription makes them (default subtypes
        for an internal partner, the external ones for a portal partner); who follows already is
        left as is; the documents' followers are read again."""
        Move = self.env["account.move"].with_context(tracking_disable=True)
        moves = Move.create(
            [{"move_type": "out_invoice", "partner_id": self.known.id, "journal_id": self.journal.id}] * 2
        )
        Users = self.env["res.users"].with_context(no_reset_password=True)
        internal, portal = (
            Users.create(
                {"name": name, "login": login, "groups_id": [fields.Command.set([self.env.ref(group).id])]}
            ).partner_id
            for name, login, group in (
                ("Бухгалтер", "onec-accountant", "base.group_user"),
                ("Клиент портала", "onec-portal", "base.group_portal"),
            )
        )
        note = self.env.ref("mail.mt_note")
        # a default subtype for internal followers only
        self.env["mail.message.subtype"].create(
            {"name": "Сверка", "res_model": "account.move", "default": True, "internal": True}
        )
        moves[1].message_subscribe([internal.id], subtype_ids=note.ids)
        pairs = [
            (moves[0].id, internal.id),
            (moves[0].id, portal.id),
            (moves[0].id, self.known.id),
            (moves[1].id, internal.id),
            (moves[1].id, portal.id),
            (moves[0].id, portal.id),
        ]

        def followers():
            self.env.flush_all()
            return sorted(
                self.env.execute_query(
                    SQL(
                        """SELECT f.res_model, f.res_id, f.partner_id,
                                  array_agg(r.mail_message_subtype_id ORDER BY r.mail_message_subtype_id)
                             FROM mail_followers f
                        LEFT JOIN mail_followers_mail_message_subtype_rel r ON r.mail_followers_id = f.id
                            WHERE f.res_model = 'account.move' AND f.res_id = ANY(%s)
                         GROUP BY f.id""",
                        moves.ids,
                    )
                )
            )

        savepoint = self.env.cr.savepoint()
        self.assertNotIn(portal, moves[0].message_partner_ids)
        self.Connector._subscribe_deferred(pairs)
        self.assertIn(portal, moves[0].message_partner_ids, "the followers read again")
        self.assertTrue(moves[0].message_follower_ids.filtered(lambda follower: follower.partner_id == internal))
        written = followers()
        savepoint.rollback()
        savepoint.close(rollback=False)
        self.env.invalidate_all()
        for move_id, partner_id in pairs:
            Move.browse(move_id).message_subscribe([partner_id])
        self.assertEqual(written, followers())
        subtypes = {(res_id, partner_id): ids for _model, res_id, partner_id, ids in written}
        self.assertEqual(subtypes[(moves[1].id, internal.id)], note.ids, "the existing follower kept")
        self.assertNotEqual(subtypes[(moves[0].id, internal.id)], subtypes[(moves[0].id, portal.id)])
        self.assertEqual(subtypes[(moves[0].id, portal.id)], subtypes[(moves[0].id, self.known.id)])

    def test_numbering_across_periods(self):
        """Documents of several months and years, in no order, invoices and credit notes: the same
        numbers, prefixes and gaps as posting gives."""
        partner = {"ref": self.known.crm_onec_ref, "name": self.known.name, "is_company": True}
        nodes = [
            self._sale(
                20 + index,
                [self._line("Товар", 1, f"{100 + index}.00")],
                partner,
                days_ago=days_ago,
                kind=ed.SALE_RETURN if index % 3 == 2 else ed.SALE,
            )
            # a date after today too (posted at once by action_post, as any other)
            for index, days_ago in enumerate((0, 400, 35, 0, 370, 400, 1, 35, 800, 2, -400))
        ]
        expected, written, by_orm, by_writer = self._both_ways(nodes)
        self.assertEqual((by_orm, by_writer), (False, True))
        self.assertEqual(written["documents"], expected["documents"])
        self.assertEqual(written["items"], expected["items"])
        names = sorted(document["name"] for document in written["documents"])
        self.assertEqual(len(set(names)), 11)
        self.assertEqual(len({document["sequence_prefix"] for document in written["documents"]}), 6, names)

    def test_fallback_to_the_orm(self):
        """Chunks the writer does not reproduce exactly are created and posted by the ORM."""
        Writer = self.env["crm.onec.sale.writer"]
        nodes = self._chunk()
        term = self.env["account.payment.term"].create(
            {
                "name": "Half now, half in 30 days",
                "line_ids": [
                    fields.Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                    fields.Command.create({"value": "percent", "value_amount": 50, "nb_days": 30}),
                ],
            }
        )
        self.known.property_payment_term_id = term
        moves, by_writer = self._apply(nodes, orm=False)
        self.assertFalse(by_writer, "a payment term of several lines: the ORM")
        self.assertEqual(
            len(moves.filtered(lambda m: m.partner_id == self.known).line_ids.filtered("date_maturity")), 4
        )
        self.known.property_payment_term_id = self.env.ref("account.account_payment_term_immediate")
        vals = [
            {
                "move_type": "out_invoice",
                "partner_id": self.known.id,
                "invoice_date": self.day,
                "date": self.day,
                "currency_id": self.company.currency_id.id,
                "ref": "X",
                "payment_reference": "X",
                "journal_id": self.journal.id,
                "company_id": self.company.id,
                "crm_onec_ref": "dddd",
                "invoice_line_ids": [fields.Command.create({"name": "A", "quantity": 1, "price_unit": 5.0})],
            }
        ]
        self.assertFalse(Writer._refusal(self.company, self.journal, vals))
        self.company.sale_lock_date = self.day
        self.assertEqual(Writer._refusal(self.company, self.journal, vals), "lock date")
        self.company.sale_lock_date = False
        self.journal.restrict_mode_hash_table = True
        self.assertEqual(Writer._refusal(self.company, self.journal, vals), "journal not plain")
        self.journal.restrict_mode_hash_table = False
        vals[0]["invoice_line_ids"][0][2]["price_unit"] = -5.0
        self.assertEqual(Writer._refusal(self.company, self.journal, vals), "total not positive")
        vals[0]["invoice_line_ids"][0][2]["price_unit"] = 5.0
        receivable = self.known.property_account_receivable_id
        self.known.property_account_position_id = self.env["account.fiscal.position"].create(
            {
                "name": "Other receivable",
                "account_ids": [
                    fields.Command.create({"account_src_id": receivable.id, "account_dest_id": receivable.copy().id})
                ],
            }
        )
        self.assertEqual(Writer._refusal(self.company, self.journal, vals), "fiscal position maps accounts")
        self.known.property_account_position_id = False
        self.env["account.analytic.distribution.model"].create(
            {"analytic_distribution": {}, "partner_id": self.known.id}
        )
        self.assertEqual(Writer._refusal(self.company, self.journal, vals), "analytic distribution models")
