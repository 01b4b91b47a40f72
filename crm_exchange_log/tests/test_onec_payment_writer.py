from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon

from ..services import enterprise_data as ed

TABLES = (
    "account_payment",
    "account_move",
    "account_move_line",
    "account_partial_reconcile",
    "account_full_reconcile",
)
#: columns that differ between two applications of the same chunk whatever writes it
VOLATILE = {"id", "create_date", "write_date", "create_uid", "write_uid"}
NEW_CUSTOMER = {"ref": "aaaa0000-0000-4000-8000-00000000c001", "name": "ТОО «Новый»", "inn": "971240001315"}
KPI_FIELDS = (
    "crm_debt",
    "crm_overdue_debt",
    "crm_avg_payment_delay",
    "crm_payment_rating",
    "crm_ltv",
    "crm_paid_invoice_count",
    "crm_ontime_share",
    "crm_worst_delay",
    "customer_rank",
)


@tagged("post_install", "-at_install")
class TestOnecPaymentWriter(CrmKpiCommon):
    """The set-based writer of the payments from 1C stores exactly what the ORM path stores:
    the same chunk is applied both ways and every column of every row written is compared."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Connector = cls.env["crm.onec.connector"].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_notrack=True
        )
        cls.company = cls.env.company
        cls.customer.write({"crm_bin": "950140009013"})
        # mirrored from 1C through the batch of sales: A paid exactly, B by two payments of the chunk,
        # D paid partly before the chunk and completed in it; R a return (credit note)
        sales = [
            cls._sale("aaaa0000-0000-4000-8000-0000000000a1", "0000-000001", 1000, 30),
            cls._sale("aaaa0000-0000-4000-8000-0000000000b1", "0000-000002", 900, 25),
            cls._sale("aaaa0000-0000-4000-8000-0000000000d1", "0000-000003", 600, 20),
        ]
        cls.sale_a, cls.sale_b, cls.sale_d = cls.Connector._apply_sales_batch(cls.company, sales)
        cls.refund = cls.Connector._apply_sales_batch(
            cls.company,
            [
                cls._sale("aaaa0000-0000-4000-8000-0000000000e1", "0000-000004", 200, 15, kind=ed.SALE_RETURN),
                cls._sale("aaaa0000-0000-4000-8000-0000000000e2", "0000-000005", 100, 15, kind=ed.SALE_RETURN),
            ],
        )[0]
        # pushed from Odoo, named by its number in 1C
        cls.invoice_c = cls.invoice(1000.0, days_ago=10)
        # D partly paid before (a matching number that the chunk's reconciliation joins)
        cls.Connector._apply_payments_batch(
            cls.company,
            [
                cls._pay("bbbb0000-0000-4000-8000-000000000001", 12, [(350, cls.sale_d)], NEW_CUSTOMER),
                cls._pay("bbbb0000-0000-4000-8000-000000000002", 12, [(1, cls.sale_a)], NEW_CUSTOMER),
            ],
        )
        cls.env.flush_all()

    @classmethod
    def _sale(cls, ref, number, amount, days_ago, kind=ed.SALE, partner=None):
        values = {
            "ref": ref,
            "date": datetime.combine(cls.days_ago(days_ago), datetime.min.time()).replace(hour=9),
            "number": number,
            "organization": {"name": cls.env.company.name, "inn": False},
            "currency": {"code": "840", "name": "USD"},
            "amount_total": Decimal(amount),
            "price_include": True,
            "partner": {**(partner or NEW_CUSTOMER), "is_company": True},
            "lines": [{"name": "Станок", "quantity": 1, "amount": Decimal(amount), "price": Decimal(amount)}],
        }
        return (ed.sale if kind == ed.SALE else ed.sale_return)(values)

    @classmethod
    def _pay(cls, ref, days_ago, rows, partner=None):
        """A customer payment of 1C: ``rows`` [(amount, document or None)]; ``days_ago``: or its date."""
        partner = partner or {"ref": None, "name": "ТОО «МашСтрой»", "inn": "950140009013"}
        day = days_ago if isinstance(days_ago, date) else cls.days_ago(days_ago)
        return ed.payment(
            {
                "ref": ref,
                "date": datetime.combine(day, datetime.min.time()).replace(hour=11),
                "number": f"П-{ref[-4:]}",
                "organization": {"name": cls.env.company.name, "inn": False},
                "currency": {"code": "840", "name": "USD"},
                "amount": sum(Decimal(amount) for amount, _move in rows),
                "partner": {**partner, "is_company": True},
                "rows": [
                    {
                        "amount": Decimal(amount),
                        "document": move
                        and {"ref": move.crm_onec_ref or None, "number": move.name, "date": move.invoice_date},
                    }
                    for amount, move in rows
                ],
            }
        )

    def _chunk(self):
        return [
            # A exactly (what is left of it)
            self._pay("cccc0000-0000-4000-8000-000000000001", 5, [(999, self.sale_a)], NEW_CUSTOMER),
            # B partly
            self._pay("cccc0000-0000-4000-8000-000000000002", 4, [(400, self.sale_b)], NEW_CUSTOMER),
            # C (pushed from Odoo) overpaid: an outstanding credit
            self._pay("cccc0000-0000-4000-8000-000000000003", 4, [(1500.5, self.invoice_c)]),
            # no document: an outstanding credit
            self._pay("cccc0000-0000-4000-8000-000000000004", 3, [(300, None)], NEW_CUSTOMER),
            # naming the credit note: a payment left open on the customer's account
            self._pay("cccc0000-0000-4000-8000-000000000005", 3, [(200, self.refund)], NEW_CUSTOMER),
            # two rows: the rest of B (second payment of the chunk on it) and the rest of D
            self._pay(
                "cccc0000-0000-4000-8000-000000000006", 2, [(500, self.sale_b), (250, self.sale_d)], NEW_CUSTOMER
            ),
            # of the year before: numbered in its own sequence (the first number of its year)
            self._pay("cccc0000-0000-4000-8000-000000000007", 400, [(120, None)], NEW_CUSTOMER),
        ]

    # ------------------------------------------------------------------ snapshots
    def _foreign_keys(self):
        """{(table, column): referenced table} among the compared tables."""
        self.env.cr.execute(
            """SELECT cl.relname, att.attname, ref.relname
                 FROM pg_constraint con
                 JOIN pg_class cl ON cl.oid = con.conrelid
                 JOIN pg_class ref ON ref.oid = con.confrelid
                 JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
                WHERE con.contype = 'f' AND cl.relname = ANY(%s) AND ref.relname = ANY(%s)""",
            [list(TABLES), list(TABLES)],
        )
        return {(table, column): ref for table, column, ref in self.env.cr.fetchall()}

    def _rows(self, table, ids):
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY column_name", [table]
        )
        columns = [name for (name,) in self.env.cr.fetchall() if name not in VOLATILE - {"id"}]
        self.env.cr.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = ANY(%s)",  # noqa: S608 - names from the catalog
            [sorted(ids)],
        )
        return [dict(zip(columns, row, strict=True)) for row in self.env.cr.fetchall()]

    def _snapshot(self, prefix="cccc0000-%", invoices=None):
        """Every column of the rows written, ids replaced by natural keys."""
        self.env.flush_all()
        self.env["crm.partner.kpi"]._crm_apply_pending()
        self.env.flush_all()
        cr = self.env.cr
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", prefix)])
        invoices = self.sale_a | self.sale_b | self.sale_d | self.refund | self.invoice_c | (invoices or self.sale_a)
        moves = payments.move_id | invoices
        earlier = self.env["account.payment"].search([("crm_onec_ref", "like", "bbbb0000-%")])
        moves |= earlier.move_id
        lines = moves.line_ids
        cr.execute(
            "SELECT id FROM account_partial_reconcile WHERE debit_move_id = ANY(%s) OR credit_move_id = ANY(%s)",
            [lines.ids, lines.ids],
        )
        partial_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            """SELECT DISTINCT full_reconcile_id FROM account_move_line
                WHERE id = ANY(%s) AND full_reconcile_id IS NOT NULL""",
            [lines.ids],
        )
        full_ids = [row[0] for row in cr.fetchall()]
        ids = {
            "account_payment": (payments | earlier).ids,
            "account_move": moves.ids,
            "account_move_line": lines.ids,
            "account_partial_reconcile": partial_ids,
            "account_full_reconcile": full_ids,
        }
        rows = {table: self._rows(table, table_ids) for table, table_ids in ids.items()}
        # natural keys
        keys = {"account_payment": {}, "account_move": {}, "account_move_line": {}}
        for row in rows["account_payment"]:
            keys["account_payment"][row["id"]] = f"payment {row['crm_onec_ref']}"
        for row in rows["account_move"]:
            keys["account_move"][row["id"]] = (
                f"entry of {keys['account_payment'][row['origin_payment_id']]}"
                if row["origin_payment_id"]
                else f"document {row['name']}"
            )
        for row in sorted(rows["account_move_line"], key=lambda row: row["id"]):
            move_key = keys["account_move"][row["move_id"]]
            keys["account_move_line"][row["id"]] = (move_key, row["account_id"], row["balance"], row["name"])
        keys["account_partial_reconcile"] = {
            row["id"]: (
                keys["account_move_line"][row["debit_move_id"]],
                keys["account_move_line"][row["credit_move_id"]],
                row["amount"],
            )
            for row in rows["account_partial_reconcile"]
        }
        keys["account_full_reconcile"] = {
            full_id: tuple(
                sorted(
                    str(keys["account_move_line"][row["id"]])
                    for row in rows["account_move_line"]
                    if row["full_reconcile_id"] == full_id
                )
            )
            for full_id in full_ids
        }
        foreign = self._foreign_keys()
        snapshot = {}
        for table, table_rows in rows.items():
            mapped = []
            for row in table_rows:
                row = dict(row)
                for column, value in row.items():
                    ref = foreign.get((table, column))
                    if ref and value:
                        self.assertIn(value, keys[ref], f"{table}.{column} points at a row not compared")
                        row[column] = keys[ref][value]
                if table == "account_move_line" and row["matching_number"]:
                    number = row["matching_number"]
                    row["matching_number"] = (
                        ("P", keys["account_partial_reconcile"][int(number[1:])])
                        if number.startswith("P")
                        else keys["account_full_reconcile"][int(number)]
                    )
                key = keys[table][row.pop("id")]
                mapped.append((str(key), row))
            snapshot[table] = sorted(mapped, key=lambda item: item[0])
        cr.execute(
            """SELECT res_model, res_id, partner_id FROM mail_followers
                WHERE (res_model = 'account.move' AND res_id = ANY(%s))
                   OR (res_model = 'account.payment' AND res_id = ANY(%s))""",
            [moves.ids, (payments | earlier).ids],
        )
        snapshot["followers"] = sorted(
            (model, keys["account_move" if model == "account.move" else "account_payment"][res_id], partner_id)
            for model, res_id, partner_id in cr.fetchall()
        )
        partners = invoices.commercial_partner_id | self.customer
        partners.invalidate_recordset()
        snapshot["kpi"] = [
            (partner.name, {name: partner[name] for name in KPI_FIELDS if name in partner._fields})
            for partner in partners.sorted("id")
        ]
        cr.execute(
            """SELECT partner_id, month, ltv, order_count, paid_amount, paid_delay_amount
                 FROM crm_partner_kpi_month WHERE partner_id = ANY(%s) ORDER BY partner_id, month""",
            [partners.ids],
        )
        snapshot["kpi_months"] = cr.fetchall()
        cr.execute(
            """SELECT partner_id, ltv, order_count, paid_amount, paid_delay_amount, avg_payment_delay
                 FROM crm_partner_kpi WHERE partner_id = ANY(%s) ORDER BY partner_id""",
            [partners.ids],
        )
        snapshot["kpi_rows"] = cr.fetchall()
        return snapshot

    def _apply(self, nodes=None, **context):
        return self.Connector.with_context(**context)._apply_payments_batch(self.company, nodes or self._chunk())

    @contextmanager
    def _writer_spied(self):
        """What the payment writer answers, chunk by chunk (None: left to the ORM)."""
        Writer = type(self.env["crm.onec.payment.writer"])
        write, results = Writer._write_payments, []

        def spy(writer, *args):
            results.append(write(writer, *args))
            return results[-1]

        with patch.object(Writer, "_write_payments", spy):
            yield results

    def _compare(self, nodes=None, prefix="cccc0000-%", invoices=None, cached=False):
        """The chunk applied by the ORM in a savepoint, then by the writer: both snapshots.
        ``cached``: the writer continues the numbers the transaction took before (as the ORM did),
        else it takes the first number of each period again."""
        sequences = dict(self.env.cr.precommit.data.get("sequence.mixin", {}))
        with self.env.cr.savepoint() as savepoint:
            orm_answer = self._apply(nodes, crm_onec_orm_payments=True)
            orm = self._snapshot(prefix, invoices)
            savepoint.rollback()
        self.env.invalidate_all()
        # the numbers taken in the savepoint are free again
        if cached:
            self.env.cr.precommit.data["sequence.mixin"] = sequences
        else:
            self.env.cr.precommit.data.pop("sequence.mixin", None)
        with self._writer_spied() as results:
            written_answer = self._apply(nodes)
        self.assertTrue(results and results[0], "the writer wrote the chunk")
        written = self._snapshot(prefix, invoices)
        self.assertEqual(
            [response for _record, response in written_answer], [response for _record, response in orm_answer]
        )
        self.assertEqual(written, orm, "\n".join(self._differences(table, orm[table], written[table]) for table in orm))

    # ------------------------------------------------------------------ tests
    def test_writer_stores_what_the_orm_stores(self):
        self.assertIsNone(
            self.env["crm.onec.payment.writer"]._check_chunk(self.company, self._journal(), *self._prepared()),
            "the chunk is one the writer handles",
        )
        self._compare()
        # the figures themselves, as the card shows them
        self.assertEqual((self.sale_a.payment_state, self.sale_a.amount_residual), ("paid", 0.0))
        self.assertEqual((self.sale_b.payment_state, self.sale_b.amount_residual), ("paid", 0.0))
        self.assertEqual((self.sale_d.payment_state, self.sale_d.amount_residual), ("paid", 0.0))
        self.assertEqual((self.invoice_c.payment_state, self.invoice_c.amount_residual), ("paid", 0.0))
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", "cccc0000-%")])
        self.assertEqual(
            sorted(payments.mapped("name")),
            [f"PBNK1/{self.today.year - 1}/00001"] + [f"PBNK1/{self.today.year}/0000{n}" for n in range(3, 10)],
        )
        self.assertEqual(
            sorted(self.sale_b.line_ids.full_reconcile_id.reconciled_line_ids.mapped("balance")), [-500, -400, 900]
        )

    def test_writer_continues_the_numbers_of_the_transaction(self):
        """A payment posted before in the same transaction (by the ORM): the chunk's entries follow
        it in the transaction's sequence cache."""
        self._apply(
            [self._pay("cccc0000-0000-4000-8000-0000000000f1", 6, [(10, None)], NEW_CUSTOMER)],
            crm_onec_orm_payments=True,
        )
        self._compare(cached=True)
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", "cccc0000-%")])
        self.assertEqual(
            sorted(payments.mapped("name")),
            [f"PBNK1/{self.today.year - 1}/00001"] + [f"PBNK1/{self.today.year}/{n:05d}" for n in range(3, 11)],
        )

    def test_writer_takes_the_next_number_when_one_is_taken(self):
        """The first number of a period that another transaction took (here: a format read one
        number short): its insert fails on the unique index and the next number is tried, as
        ``_locked_increment`` does."""
        Move = type(self.env["account.move"])
        next_format = Move._get_next_sequence_format

        def stale(move):
            format_string, format_values = next_format(move)
            return format_string, {**format_values, "seq": max(format_values["seq"] - 1, 0)}

        with patch.object(Move, "_get_next_sequence_format", stale):
            self._compare()
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", "cccc0000-%")])
        self.assertEqual(
            sorted(payments.mapped("name")),
            [f"PBNK1/{self.today.year - 1}/00001"] + [f"PBNK1/{self.today.year}/{n:05d}" for n in range(3, 10)],
        )

    def test_writer_numbers_months_and_years_as_the_orm(self):
        """The journal numbering its payments monthly (its last numbers say so), a chunk over the
        turn of a month and of a year: each month numbered from its own first number."""
        for number, payment in enumerate(self.env["account.payment"].search([("crm_onec_ref", "like", "bbbb0000-%")])):
            prefix = f"{payment.name.rsplit('/', 1)[0]}/{payment.date:%m}/"
            name = f"{prefix}{number + 1:04d}"
            self.env.cr.execute(
                """UPDATE account_move SET name = %s, sequence_prefix = %s, sequence_number = %s WHERE id = %s;
                   UPDATE account_move_line SET move_name = %s WHERE move_id = %s;
                   UPDATE account_payment SET name = %s WHERE id = %s""",
                [name, prefix, number + 1, payment.move_id.id, name, payment.move_id.id, name, payment.id],
            )
        self.env.invalidate_all()
        self.env.cr.precommit.data.pop("sequence.mixin", None)
        month = self.today.replace(day=1)
        days = [date(self.today.year - 1, 12, 31), date(self.today.year, 1, 1), month - timedelta(days=1), month]
        days += [self.today, self.today]
        nodes = [
            self._pay(f"ffff0000-0000-4000-8000-{n:012d}", day, [(100 + n, None)], NEW_CUSTOMER)
            for n, day in enumerate(days)
        ]
        nodes.append(self._pay("ffff0000-0000-4000-8000-100000000000", month, [(999, self.sale_a)], NEW_CUSTOMER))
        self._compare(nodes, "ffff0000-%")
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", "ffff0000-%")])
        for payment in payments:
            self.assertRegex(payment.name, rf"^PBNK1/{payment.date:%Y/%m}/\d{{4}}$")
        self.assertEqual(self.sale_a.payment_state, "paid")

    @staticmethod
    def _differences(table, expected, actual):
        """What differs, column by column (the assertion's message)."""
        if not table.startswith("account_"):
            return table
        expected, actual = dict(expected), dict(actual)
        lines = [
            f"{table}: rows only by the ORM {sorted(set(expected) - set(actual))},"
            f" only written {sorted(set(actual) - set(expected))}"
        ]
        for key in sorted(set(expected) & set(actual)):
            for column in sorted(expected[key]):
                if expected[key][column] != actual[key].get(column):
                    lines.append(f"{key}.{column}: ORM {expected[key][column]!r} written {actual[key].get(column)!r}")
        return "\n".join(lines)

    def _journal(self):
        return self.Connector._bank_journal(self.company)

    def _prepared(self):
        vals_list, targets, cache = [], [], {}
        for node in self._chunk():
            vals, row_targets = self.Connector._prepare_payment(self.company, ed.read_payment(node), cache)
            vals_list += vals
            targets += row_targets
        return vals_list, targets

    def test_refused_chunks_go_the_orm_way(self):
        Writer = self.env["crm.onec.payment.writer"]
        journal = self._journal()
        vals_list, targets = self._prepared()
        self.company.fiscalyear_lock_date = self.days_ago(4)
        self.assertEqual(Writer._check_chunk(self.company, journal, vals_list, targets), "lock date")
        self.company.fiscalyear_lock_date = False
        journal.restrict_mode_hash_table = True
        self.assertEqual(
            Writer._check_chunk(self.company, journal, vals_list, targets),
            "journal locked, archived or of another company",
        )
        journal.restrict_mode_hash_table = False
        future = [dict(vals_list[0], date=self.days_ago(-1))]
        self.assertEqual(
            Writer._check_chunk(self.company, journal, future, targets[:1]),
            "payment dated in the future (posted at its date)",
        )

    def test_refused_chunk_applied_by_the_orm(self):
        self._journal().restrict_mode_hash_table = True
        with self._writer_spied() as results:
            answer = self._apply()
        self.assertEqual(results, [None], "refused: nothing written by the writer")
        self.assertEqual(len(answer), 7)
        self.assertEqual((self.sale_b.payment_state, self.sale_b.amount_residual), ("paid", 0.0))
        self.assertEqual(self.invoice_c.payment_state, "paid")
        self.assertEqual(len(self.env["account.payment"].search([("crm_onec_ref", "like", "cccc0000-%")])), 8)

    def test_invoice_under_an_installment_plan_goes_the_orm_way(self):
        if "crm.installment.plan" not in self.env:
            self.skipTest("crm_installments is not installed")
        plan = self.env["crm.installment.plan"].create(
            {
                "partner_id": self.sale_b.commercial_partner_id.id,
                "invoice_id": self.sale_b.id,
                "amount_total": 900.0,
                "installment_count": 3,
                "interval": "month",
                "date_first": self.sale_b.invoice_date,
                "currency_id": self.currency.id,
            }
        )
        plan.action_compute_schedule()
        plan.action_confirm()
        self.assertEqual(
            self.env["crm.onec.payment.writer"]._check_chunk(self.company, self._journal(), *self._prepared()),
            "document under an installment plan",
        )
        self._apply()
        # allocated to the plan's lines by the reconciliation hook of crm_installments
        self.assertEqual(sorted(plan.payment_ids.mapped("amount")), [400.0, 500.0])
        self.assertEqual(plan.amount_residual, 0.0)

    def test_writer_stores_what_the_orm_stores_for_many_customers(self):
        """A chunk as the first load sends it: several customers, payments of the same day (numbered
        by their 1C number), invoices paid by two payments, partly, over, or already paid."""
        customers = [{"ref": f"aaaa0000-0000-4000-8000-0000000d{n:04d}", "name": f"ТОО «Клиент {n}»"} for n in range(4)]
        sales = self.Connector._apply_sales_batch(
            self.company,
            [
                self._sale(
                    f"dddd0000-0000-4000-8000-{n:012d}", f"0001-{n:06d}", 100 + 10 * n, 60 - n, partner=customers[n % 4]
                )
                for n in range(12)
            ],
        )
        nodes = []
        for n, sale in enumerate(sales):
            amount = (sale.amount_total, sale.amount_total - 30, sale.amount_total + 15)[n % 3]
            customer = customers[n % 4]
            nodes.append(self._pay(f"eeee0000-0000-4000-8000-{n:012d}", 10 - n % 3, [(amount, sale)], customer))
            if n % 3 == 1:
                nodes.append(self._pay(f"eeee0000-0000-4000-8000-1{n:011d}", 10 - n % 3, [(30, sale)], customer))
            if n % 3 == 0:
                # naming an invoice the chunk has already paid: left open as the customer's credit
                nodes.append(self._pay(f"eeee0000-0000-4000-8000-2{n:011d}", 1, [(5, sale)], customer))
        self._compare(nodes, "eeee0000-%", sales)
        self.assertEqual(set(sales.mapped("payment_state")), {"paid"})

    def test_a_default_the_writer_does_not_set_goes_the_orm_way(self):
        self.env["ir.default"].set("account.payment", "payment_reference", "из 1С")
        with self._writer_spied() as results:
            self._apply()
        self.assertEqual(results, [None])
        payments = self.env["account.payment"].search([("crm_onec_ref", "like", "cccc0000-%")])
        self.assertEqual(set(payments.mapped("payment_reference")), {"из 1С"})
