"""Exactly once with real transactions: two workers, a crash half-way, a late cron.

These tests cannot live in the test transaction (a second worker would not see its data): a
dedicated fixture commits three invoices of two customers through its own cursor, every worker
gets its own cursor, and the fixture deletes everything it made, whatever the outcome."""

from contextlib import closing, contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestDunningExactlyOnce(TransactionCase):
    def setUp(self):
        super().setUp()
        self.today = fields.Date.today()
        self.ids = {}
        self.addCleanup(self._drop_fixture)
        with self.worker() as env:
            company = env.ref("base.main_company")
            if not env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1):
                self.skipTest("the main company has no sales journal")
            policy = env.ref("crm_receivables.dunning_policy_default")
            partners = env["res.partner"].create(
                [
                    {"name": "Exactly Once One LLP", "is_company": True, "email": "one@example.com"},
                    {"name": "Exactly Once Two LLP", "is_company": True, "email": "two@example.com"},
                ]
            )
            partners.with_company(company).crm_dunning_policy_id = policy
            self.ids["partners"] = partners.ids
            moves = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        self._invoice_vals(partners[0], days_late=2),  # level +1
                        self._invoice_vals(partners[1], days_late=2),  # level +1
                        self._invoice_vals(partners[1], days_late=8),  # level +7
                    ]
                )
            )
            self.ids["moves"] = moves.ids
            moves.action_post()
            env.cr.commit()

    def _invoice_vals(self, partner, days_late):
        due = self.today - timedelta(days=days_late)
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": due - timedelta(days=10),
            "invoice_date_due": due,
            "invoice_payment_term_id": False,
            "invoice_line_ids": [
                Command.create({"name": "Service", "quantity": 1, "price_unit": 1000.0, "tax_ids": [Command.clear()]})
            ],
        }

    def _drop_fixture(self):
        if not self.ids:
            return
        with self.worker() as env:
            moves = env["account.move"].browse(self.ids.get("moves", [])).exists()
            partners = env["res.partner"].browse(self.ids.get("partners", [])).exists()
            env.cr.execute(SQL("DELETE FROM crm_dunning_event WHERE move_id = ANY(%s)", moves.ids or [0]))
            env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "in", moves.ids)]).unlink()
            env["mail.activity"].search([("res_model", "=", "account.move"), ("res_id", "in", moves.ids)]).unlink()
            env["mail.message"].search(
                [
                    "|",
                    "&",
                    ("model", "=", "account.move"),
                    ("res_id", "in", moves.ids),
                    "&",
                    ("model", "=", "res.partner"),
                    ("res_id", "in", partners.ids),
                ]
            ).unlink()
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            partners.unlink()
            env.cr.commit()

    @contextmanager
    def worker(self):
        """An environment on a cursor of its own, as a cron worker has."""
        with closing(self.registry.cursor()) as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def run_dunning(self, env, **kwargs):
        kwargs.setdefault("date_ref", self.today)
        return env["crm.dunning.policy"]._cron_run_dunning(partners=self.partners_in(env), **kwargs)

    def partners_in(self, env):
        return env["res.partner"].browse(self.ids["partners"])

    def committed(self):
        """(invoice index, level offset) acted on, and emails per customer, as committed."""
        with self.worker() as env:
            events = env["crm.dunning.event"].search([("move_id", "in", self.ids["moves"])])
            acted = sorted((self.ids["moves"].index(e.move_id.id), e.offset_days) for e in events)
            emails = [
                env["mail.message"].search_count(
                    [("model", "=", "res.partner"), ("res_id", "=", pid), ("message_type", "=", "comment")]
                )
                for pid in self.ids["partners"]
            ]
            return acted, emails

    def test_two_workers_at_the_same_time(self):
        with self.worker() as env_a, self.worker() as env_b:
            acted_a = self.run_dunning(env_a)
            self.assertEqual(len(acted_a), 3)
            # B runs while A has not committed: the invoices are A's, B skips them without waiting
            self.assertFalse(self.run_dunning(env_b))
            env_a.cr.commit()
            env_b.cr.commit()
        self.assertEqual(self.committed(), ([(0, 1), (1, 1), (2, 7)], [1, 1]))

    def test_worker_that_began_before_the_other_committed(self):
        with self.worker() as env_a, self.worker() as env_b:
            env_b.cr.execute("SELECT 1")  # B's snapshot is taken before A commits: A's events are invisible to B
            self.run_dunning(env_a)
            env_a.cr.commit()
            # each claim is refused (a serialization failure), nothing is sent twice, no ERROR logged
            with self.assertNoLogs("odoo.sql_db", "ERROR"):
                self.assertFalse(self.run_dunning(env_b))
            env_b.cr.commit()
        self.assertEqual(self.committed(), ([(0, 1), (1, 1), (2, 7)], [1, 1]))

    def test_invoice_changed_by_another_cron_meanwhile(self):
        """Another cron writes the invoices after the dunning's transaction began: the claim's
        foreign key check cannot lock them (REPEATABLE READ), so it is left to the next call,
        which the scheduler makes at once (the progress says what remains), with no ERROR."""
        progress = []
        Cron = type(self.env["ir.cron"])
        with (
            self.worker() as env_a,
            self.worker() as env_b,
            patch.object(
                Cron,
                "_notify_progress",
                lambda _self, *, done, remaining, deactivate=False: progress.append((done, remaining)),
            ),
        ):
            env_b.cr.execute("SELECT 1")  # the dunning's snapshot
            env_a["account.move"].browse(self.ids["moves"]).write({"crm_unusual_delay_date": self.today})
            env_a.cr.commit()
            with self.assertNoLogs("odoo.sql_db", "ERROR"):
                self.assertFalse(self.run_dunning(env_b))
            env_b.cr.commit()
            self.assertEqual(progress, [(0, 3)])
            with self.worker() as env:
                self.assertEqual(len(self.run_dunning(env)), 3)
                env.cr.commit()
        self.assertEqual(self.committed(), ([(0, 1), (1, 1), (2, 7)], [1, 1]))

    def test_crash_half_way_then_rerun(self):
        with self.worker() as env:
            first = self.run_dunning(env, batch_size=1)
            self.assertEqual(first.move_id.ids, self.ids["moves"][:1])
            env.cr.commit()  # the scheduler commits between batches
            second = self.run_dunning(env, batch_size=1)
            self.assertEqual(second.move_id.ids, self.ids["moves"][1:2])
            # the worker dies here: its transaction is rolled back when the connection closes
        self.assertEqual(self.committed(), ([(0, 1)], [1, 0]))
        with self.worker() as env:
            rerun = self.run_dunning(env)
            self.assertEqual(rerun.move_id.ids, self.ids["moves"][1:])
            env.cr.commit()
        with self.worker() as env:
            self.assertFalse(self.run_dunning(env))
            env.cr.commit()
        # the second customer gets one email for both of its invoices, the first no second email
        self.assertEqual(self.committed(), ([(0, 1), (1, 1), (2, 7)], [1, 1]))

    def test_scheduled_run_commits_each_batch(self):
        """A scheduled run selects once, then acts on its batches one after the other, each
        committed (whole customers first): a crash after the last commit loses only the batch
        in progress, which the rerun does."""
        progress = []
        Cron = type(self.env["ir.cron"])
        with (
            self.worker() as env,
            patch.object(
                Cron,
                "_notify_progress",
                lambda _self, *, done, remaining, deactivate=False: progress.append((done, remaining)),
            ),
        ):
            acted = self.run_dunning(env, batch_size=2, commit_batches=True)
            # the first customer's invoice, then the second customer's two: one call, two batches
            self.assertEqual(sorted(acted.move_id.ids), sorted(self.ids["moves"]))
            self.assertEqual(progress, [(3, 0)])
            # the worker dies before the scheduler commits: the first batch stays done
        self.assertEqual(self.committed(), ([(0, 1)], [1, 0]))
        with self.worker() as env:
            self.assertEqual(self.run_dunning(env).move_id.ids, self.ids["moves"][1:])
            env.cr.commit()
        self.assertEqual(self.committed(), ([(0, 1), (1, 1), (2, 7)], [1, 1]))

    def test_cron_late_by_days_sends_only_the_highest_level(self):
        with self.worker() as env:
            # the cron did not run for three weeks: invoice 3 is 8 days late now, 29 days late then
            late = self.run_dunning(env, date_ref=self.today + timedelta(days=21))
            self.assertEqual(sorted(late.mapped("offset_days")), [14, 14, 14])
            env.cr.commit()
        with self.worker() as env:
            for day in range(22, 40):
                self.assertFalse(self.run_dunning(env, date_ref=self.today + timedelta(days=day)))
        self.assertEqual(self.committed(), ([(0, 14), (1, 14), (2, 14)], [0, 0]))
