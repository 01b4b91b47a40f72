"""A cron worker killed with SIGKILL in the middle of the dunning, penalty, segment and subscription
crons, then run again to the end: each reminder, penalty day, segment transition and subscription
invoice exists exactly once, equal to what the fixture's own arithmetic expects.

Each cron runs through Odoo's scheduler (``ir.cron._process_job``, batches committed one by one) in
a worker process forked from a master that loaded the registry once (as the prefork server forks
its cron workers), on a scheduled action of this test that calls the documented entry point with
``date_ref`` and small batches. The worker is stopped before the commit of the first batch that
follows committed work (``_notify_progress``, then the scheduler's commit), killed there with a
batch done but not committed, and its database sessions are ended as a crash would end them; a new
worker then runs the scheduled action to the end."""

import signal
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, Command, fields
from odoo.tests import tagged

from .reliability.common import ReliabilityCase


@tagged("post_install", "-at_install")
class TestCronCrashExactlyOnce(ReliabilityCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workers = cls.cron_workers("crons")
        cls.addClassCleanup(cls.workers.stop)
        cls.workers.start()

    def setUp(self):
        super().setUp()
        self.today = fields.Date.today()
        self.created = []  # (model, ids) to remove afterwards, in reverse order
        self.addCleanup(self._drop_fixture)

    # ------------------------------------------------------------------ fixture bookkeeping
    def track(self, records):
        self.created.append((records._name, records.ids))
        return records

    def _drop_fixture(self):
        with self.committed() as env:
            tracked = {}
            for model, ids in self.created:
                tracked.setdefault(model, []).extend(ids)
            # the invoices of the fixture's customers first: those it made and those the crons made
            moves = env["account.move"].search([("partner_id", "in", tracked.get("res.partner", []))])
            moves |= env["account.move"].browse(tracked.get("account.move", [])).exists()
            env["mail.activity"].search([("res_model", "=", "account.move"), ("res_id", "in", moves.ids)]).unlink()
            moves.filtered(lambda move: move.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            for model, ids in reversed(self.created):
                records = env[model].with_context(active_test=False).browse(ids).exists()
                if model == "crm.installment.plan":
                    records.action_cancel()
                actions = records.ir_actions_server_id if model == "ir.cron" else None
                records.unlink()
                if actions:
                    actions.unlink()

    def partners(self, env, count, kind, **values):
        return self.track(
            env["res.partner"].create(
                [
                    {
                        "name": f"Reliability {kind} {self.token} {n}",
                        "is_company": True,
                        "email": f"{kind.lower()}{n}.{self.token}@example.com",
                        **values,
                    }
                    for n in range(count)
                ]
            )
        )

    def scheduled_action(self, env, model, code):
        """A scheduled action of this test, ready now, run by the root user as the shipped ones."""
        return self.track(
            env["ir.cron"].create(
                {
                    "name": f"Reliability {model} {self.token}",
                    "model_id": env["ir.model"]._get_id(model),
                    "state": "code",
                    "code": code,
                    "user_id": SUPERUSER_ID,
                    "interval_number": 1,
                    "interval_type": "days",
                    "nextcall": fields.Datetime.now() - timedelta(minutes=1),
                    "active": True,
                }
            )
        )

    def count(self, query, params):
        with self.committed() as env:
            env.cr.execute(query, params)
            return env.cr.fetchone()[0]

    # ------------------------------------------------------------------ the crash
    def crash_and_rerun(self, cron, name, committed_query, params, batched=True):
        """Run ``cron`` in a worker, kill it mid-way, run it again to the end. ``committed_query``
        counts the fixture's committed work: some of it and not all of it is committed when the
        worker dies (when the cron works in batches). Returns that count at the kill."""
        with self.committed() as env:
            pause_when = env.cr.mogrify(f"SELECT ({committed_query}) > 0", params).decode()
        log = self.workers.log
        pid, paused = self.workers.run(cron.id, pause_when=pause_when)
        self.assertEqual(self.workers.kill_worker(pid, self.dsn()), -signal.SIGKILL)
        at_kill = self.count(committed_query, params)
        if batched:
            self.assertGreater(at_kill, 0, f"{name}: the worker dies after a committed batch ({paused})")
        since = log.mark()
        self.assertEqual(self.workers.run(cron.id), 0, f"{name}: the rerun ends without failure (log: {log.path})")
        self.assertEqual(log.records(since=since), [], f"{name}: ERROR/CRITICAL lines in {log.path}")
        return at_kill

    # ------------------------------------------------------------------ dunning
    def test_dunning_killed_mid_way(self):
        lateness = [2, 2, 4, 4, 8, 8, 15, 15]
        with self.committed() as env:
            policy = env.ref("crm_receivables.dunning_policy_default")
            actions = {level.offset_days: level.action for level in policy.level_ids}
            customers = self.partners(env, len(lateness), "Dunning")
            company = env.ref("base.main_company")
            customers.with_company(company).crm_dunning_policy_id = policy
            invoices = self.track(
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "partner_id": customer.id,
                            "invoice_date": self.today - timedelta(days=days + 10),
                            "invoice_date_due": self.today - timedelta(days=days),
                            "invoice_payment_term_id": False,
                            "invoice_line_ids": [
                                Command.create(
                                    {
                                        "name": "Service",
                                        "quantity": 1,
                                        "price_unit": 1000.0,
                                        "tax_ids": [Command.clear()],
                                    }
                                )
                            ],
                        }
                        for customer, days in zip(customers, lateness, strict=True)
                    ]
                )
            )
            invoices.action_post()
            cron = self.scheduled_action(
                env,
                "crm.dunning.policy",
                f"model._cron_run_dunning(date_ref='{self.today}', batch_size=2, "
                f"partners=env['res.partner'].browse({customers.ids}))",
            )
        # the highest level due on each invoice, from the policy's own levels
        expected = {
            move_id: max(offset for offset in actions if offset <= days)
            for move_id, days in zip(invoices.ids, lateness, strict=True)
        }
        at_kill = self.crash_and_rerun(
            cron, "dunning", "SELECT count(*) FROM crm_dunning_event WHERE move_id = ANY(%s)", [invoices.ids]
        )
        self.assertLess(at_kill, len(invoices))
        with self.committed() as env:
            events = env["crm.dunning.event"].search([("move_id", "in", invoices.ids)])
            self.assertEqual(
                sorted((event.move_id.id, event.offset_days) for event in events), sorted(expected.items())
            )
            for move in env["account.move"].browse(invoices.ids):
                action = actions[expected[move.id]]
                partner = move.partner_id
                emails = env["mail.message"].search_count(
                    [
                        ("partner_ids", "in", partner.ids),
                        "|",
                        "&",
                        ("model", "=", "res.partner"),
                        ("res_id", "=", partner.id),
                        "&",
                        ("model", "=", "account.move"),
                        ("res_id", "=", move.id),
                    ]
                )
                activities = env["mail.activity"].search_count(
                    [
                        "|",
                        "&",
                        ("res_model", "=", "res.partner"),
                        ("res_id", "=", partner.id),
                        "&",
                        ("res_model", "=", "account.move"),
                        ("res_id", "=", move.id),
                    ]
                )
                self.assertEqual(
                    (emails, activities),
                    (1, 0) if action == "email_customer" else (0, 1),
                    f"{move.name}, {expected[move.id]} days level ({action})",
                )

    # ------------------------------------------------------------------ penalties
    def test_penalties_killed_mid_way(self):
        rate, grace, per_line = 0.1, 2, 100_000.0
        with self.committed() as env:
            customers = self.partners(env, 3, "Penalty")
            contracts = self.track(
                env["crm.contract"].create(
                    [
                        {
                            "name": f"REL-{self.token}-{n}",
                            "partner_id": customer.id,
                            "state": "active",
                            "date_start": self.today - timedelta(days=400),
                            "penalty_rate": rate,
                            "penalty_grace_days": grace,
                            "penalty_cap_percent": 0.0,
                        }
                        for n, customer in enumerate(customers)
                    ]
                )
            )
            plans = self.track(
                env["crm.installment.plan"].create(
                    [
                        {
                            "partner_id": customer.id,
                            "contract_id": contract.id,
                            "amount_total": 3 * per_line,
                            "installment_count": 3,
                            "interval": "month",
                            "date_first": self.today - timedelta(days=70 + 5 * n),
                            "currency_id": env.company.currency_id.id,
                        }
                        for n, (customer, contract) in enumerate(zip(customers, contracts, strict=True))
                    ]
                )
            )
            plans.action_compute_schedule()
            plans.action_confirm()
            lines = plans.line_ids
            self.assertEqual(lines.mapped("amount"), [per_line] * 9)
            # base × rate × days: 100 a day from the day after the grace days to today, included
            expected = {
                line.id: per_line * rate / 100 * max(0, (self.today - line.date_due).days - grace) for line in lines
            }
            cron = self.scheduled_action(
                env,
                "crm.installment.plan",
                f"model._cron_accrue_penalties(date_ref='{self.today}', batch_size=2)",
            )
        self.assertTrue(all(expected.values()), "every line is late beyond the grace days")
        at_kill = self.crash_and_rerun(
            cron,
            "penalties",
            "SELECT count(DISTINCT line_id) FROM crm_installment_penalty WHERE plan_id = ANY(%s)",
            [plans.ids],
        )
        self.assertLess(at_kill, len(expected))
        with self.committed() as env:
            Penalty = env["crm.installment.penalty"]
            for line in env["crm.installment.line"].browse(list(expected)):
                records = Penalty.search([("line_id", "=", line.id)], order="date_from")
                self.assertEqual(sum(records.mapped("amount")), expected[line.id], f"line due {line.date_due}")
                self.assertEqual(line.penalty_amount, expected[line.id])
                # each day is charged once: the runs do not overlap
                for before, after in zip(records, records[1:], strict=False):
                    self.assertLess(before.date, after.date_from, f"overlapping penalty runs of {line.date_due}")
            for plan in env["crm.installment.plan"].browse(plans.ids):
                self.assertEqual(plan.penalty_total, sum(expected[line.id] for line in plan.line_ids))

    # ------------------------------------------------------------------ segments
    def test_segment_refresh_killed_mid_way(self):
        ref_a, ref_b = f"REL-{self.token}-a", f"REL-{self.token}-b"
        with self.committed() as env:
            customers = self.partners(env, 8, "Segment")
            customers[:4].ref = ref_a
            customers[4:].ref = ref_b
            segments = self.track(
                env["crm.segment"].create(
                    [
                        {
                            "name": f"Reliability {ref}",
                            "code": f"rel_{self.token}_{n}",
                            "domain": f"[('ref', '=', '{ref}')]",
                            # memberships are kept per company: evaluated in one, each customer is counted once
                            "company_id": env.company.id,
                        }
                        for n, ref in enumerate((ref_a, ref_b))
                    ]
                )
            )
            segments.action_refresh()
        with self.committed() as env:
            memberships = env["crm.segment.membership"].search([("segment_id", "in", segments.ids)])
            self.assertEqual(len(memberships), 8)
            last_id = max(memberships.ids)
            # two customers of each segment move to the other one; entering is signalled
            customers = env["res.partner"].browse(customers.ids)
            customers[:2].ref = ref_b
            customers[4:6].ref = ref_a
            env["crm.segment"].browse(segments.ids).notify_on_enter = True
            # refreshed yesterday: due again in today's run of the cron
            env.cr.execute(
                "UPDATE crm_segment SET last_refresh = last_refresh - interval '1 day' WHERE id = ANY(%s)",
                [segments.ids],
            )
            cron = self.scheduled_action(env, "crm.segment", f"model._cron_refresh_segments(date_ref='{self.today}')")
        self.crash_and_rerun(
            cron,
            "segments",
            "SELECT count(*) FROM crm_segment_membership"
            " WHERE segment_id = ANY(%s) AND (id > %s OR date_end IS NOT NULL)",
            [segments.ids, last_id],
            batched=False,
        )
        seg_a, seg_b = segments.ids
        c = customers.ids
        left, current = fields.Date.to_string(self.today), ""
        expected = sorted(
            [(seg_a, c[0], left), (seg_a, c[1], left), (seg_a, c[2], current), (seg_a, c[3], current)]
            + [(seg_b, c[4], left), (seg_b, c[5], left), (seg_b, c[6], current), (seg_b, c[7], current)]
            + [(seg_a, c[4], current), (seg_a, c[5], current), (seg_b, c[0], current), (seg_b, c[1], current)]
        )
        with self.committed() as env:
            memberships = env["crm.segment.membership"].search([("segment_id", "in", segments.ids)])
            self.assertEqual(
                sorted(
                    (m.segment_id.id, m.partner_id.id, fields.Date.to_string(m.date_end) or "") for m in memberships
                ),
                expected,
                "each customer left or entered once",
            )
            entered = memberships.filtered(lambda m: m.id > last_id)
            self.assertEqual(set(entered.mapped("date_start")), {self.today})
            activities = {
                pid: env["mail.activity"].search_count([("res_model", "=", "res.partner"), ("res_id", "=", pid)])
                for pid in c
            }
            self.assertEqual(activities, {pid: int(pid in (c[0], c[1], c[4], c[5])) for pid in c}, "one signal each")

    # ------------------------------------------------------------------ subscriptions
    def test_subscription_invoicing_killed_mid_way(self):
        amount = 45_000.0
        with self.committed() as env:
            customers = self.partners(env, 3, "Subscription")
            product = self.track(
                env["product.product"].create(
                    {"name": f"Reliability course {self.token}", "type": "service", "list_price": amount}
                )
            )
            starts = []
            for months in range(3):
                start = self.today - relativedelta(months=months, days=3)
                starts.append(start.replace(day=min(start.day, 28)))
            subscriptions = self.track(
                env["crm.subscription"].create(
                    [
                        {
                            "name": f"Reliability {self.token} {n}",
                            "partner_id": customer.id,
                            "product_id": product.id,
                            "amount": amount,
                            "interval": "month",
                            "date_start": start,
                        }
                        for n, (customer, start) in enumerate(zip(customers, starts, strict=True))
                    ]
                )
            )
            subscriptions.action_start()
            cron = self.scheduled_action(
                env, "crm.subscription", f"model._cron_generate_invoices(date_ref='{self.today}', batch_size=1)"
            )
        # one invoice per month started on or before today
        expected = {}
        for customer, start in zip(customers.ids, starts, strict=True):
            expected[customer] = sum(1 for k in range(24) if start + relativedelta(months=k) <= self.today)
        self.assertEqual(sorted(expected.values()), [1, 2, 3])
        query = (
            "SELECT count(*) FROM account_move WHERE partner_id = ANY(%s) AND move_type = 'out_invoice'"
            " AND state = 'posted'"
        )
        at_kill = self.crash_and_rerun(cron, "subscriptions", query, [customers.ids])
        self.assertLess(at_kill, sum(expected.values()))
        with self.committed() as env:
            for customer_id, periods in expected.items():
                invoices = env["account.move"].search(
                    [("partner_id", "=", customer_id), ("move_type", "=", "out_invoice"), ("state", "=", "posted")]
                )
                self.assertEqual(len(invoices), periods, f"one invoice per period of customer {customer_id}")
                self.assertEqual(sum(invoices.mapped("amount_untaxed")), periods * amount)
