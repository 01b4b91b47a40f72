from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ExchangeCommon


@tagged("post_install", "-at_install")
class TestRetry(ExchangeCommon):
    """Outgoing exchanges run as queue_job jobs on the system's channel; each attempt is
    journaled, failures are retried with backoff up to the system's limit, with the same
    idempotency key; integrators retry by hand, the cron picks up what is left."""

    def setUp(self):
        super().setUp()
        self.calls = []
        self.outcomes = []
        test = self

        def handler(record, log):
            test.calls.append((record.id, log.idempotency_key, log.attempt_count + 1))
            outcome = test.outcomes.pop(0) if test.outcomes else "ok"
            if outcome != "ok":
                raise ConnectionError(outcome)
            return {"received": record.name}

        patcher = patch.object(type(self.env["res.partner"]), "_crm_exchange_test_send", handler, create=True)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _enqueue(self):
        return self.Log._enqueue(
            self.system,
            "push_stock",
            self.customer,
            "_crm_exchange_test_send",
            request={"sku": "A-1"},
            idempotency_key="stock:42",
        )

    def _perform(self, job):
        """Run a trapped job as the job runner would: an exception is the job's, not the test's."""
        try:
            job.perform()
        except (RetryableJobError, FailedJobError) as error:
            return error
        return None

    def test_job_on_channel_and_success(self):
        with trap_jobs() as trap:
            log = self._enqueue()
            trap.assert_jobs_count(1, only=log._job_run)
            job = trap.enqueued_jobs[0]
            self.assertEqual(job.channel, "root.crm_onec")
            self.assertEqual(job.max_retries, 3)
            self.assertEqual((log.state, log.job_uuid), ("pending", job.uuid))
            self.assertIsNone(self._perform(job))
        self.assertEqual(log.state, "done")
        self.assertEqual(log.attempt_count, 1)
        self.assertEqual(log.attempt_ids.mapped("state"), ["done"])
        self.assertEqual(log.attempt_ids.job_uuid, job.uuid)
        self.assertIn("ТОО «Тест Обмен»", log.response_payload)

    def test_retries_with_backoff_then_failed_with_payload(self):
        self.outcomes = ["timeout", "timeout", "timeout"]
        with trap_jobs() as trap:
            log = self._enqueue()
            job = trap.enqueued_jobs[0]
            before = fields.Datetime.now()
            error = self._perform(job)
            self.assertIsInstance(error, RetryableJobError)
            self.assertEqual(error.seconds, 30, "first retry after the system's delay")
            self.assertEqual((log.state, log.attempt_count), ("retrying", 1))
            self.assertAlmostEqual(log.next_retry_at, before + timedelta(seconds=30), delta=timedelta(seconds=5))
            error = self._perform(job)
            self.assertEqual(error.seconds, 60, "then doubled")
            error = self._perform(job)
            self.assertIsInstance(error, FailedJobError)
        self.assertEqual((log.state, log.attempt_count), ("failed", 3))
        self.assertEqual(log.error_message, "ConnectionError: timeout")
        self.assertFalse(log.next_retry_at)
        self.assertEqual(log.attempt_ids.mapped("number"), [1, 2, 3])
        self.assertIn("A-1", log.request_payload, "a permanently failed exchange keeps its payload")
        self.assertEqual({key for _id, key, _n in self.calls}, {"stock:42"}, "every attempt has the same key")

    def test_manual_retry_reuses_idempotency_key(self):
        self.outcomes = ["down", "down", "down"]
        with trap_jobs() as trap:
            log = self._enqueue()
            for _attempt in range(3):
                self._perform(trap.enqueued_jobs[0])
        self.assertEqual(log.state, "failed")
        with trap_jobs() as trap:
            log.action_retry()
            trap.assert_jobs_count(1, only=log._job_run)
            self.assertEqual(log.state, "pending")
            self.assertIsNone(self._perform(trap.enqueued_jobs[0]))
        self.assertEqual((log.state, log.attempt_count), ("done", 4))
        self.assertEqual([key for _id, key, _n in self.calls], ["stock:42"] * 4)

    def test_bulk_retry_server_action(self):
        self.outcomes = ["down"] * 6
        with trap_jobs() as trap:
            first, second = self._enqueue(), self._enqueue()
            for job in list(trap.enqueued_jobs):
                for _attempt in range(3):
                    self._perform(job)
        self.assertEqual([first.state, second.state], ["failed", "failed"])
        action = self.env.ref("crm_exchange_log.crm_exchange_log_action_server_retry")
        with trap_jobs() as trap:
            action.with_context(active_model="crm.exchange.log", active_ids=(first | second).ids).run()
            trap.assert_jobs_count(2)
            trap.perform_enqueued_jobs()
        self.assertEqual([first.state, second.state], ["done", "done"])

    def test_only_integrators_retry(self):
        user = new_test_user(self.env, "exchange_salesman", groups="crm_single_truth.group_crm_manager")
        self.outcomes = ["down"]
        log = self.Log._journal(
            self.system,
            "out",
            "push_stock",
            state="failed",
            record=self.customer,
            error="down",
            handler="_crm_exchange_test_send",
        )
        with self.assertRaises(AccessError):
            log.with_user(user).action_retry()

    def test_cron_retries_failed_with_attempts_left(self):
        log = self.Log._journal(
            self.system,
            "out",
            "push_stock",
            state="failed",
            record=self.customer,
            error="down",
            handler="_crm_exchange_test_send",
            idempotency_key="stock:7",
            attempt_limit=3,
        )
        log.next_retry_at = fields.Datetime.now() - timedelta(minutes=1)
        exhausted = self.Log._journal(
            self.system,
            "out",
            "push_stock",
            state="failed",
            record=self.customer,
            error="down",
            handler="_crm_exchange_test_send",
            attempt_limit=3,
        )
        exhausted.attempt_count = 3
        incoming = self.Log._journal(self.system, "in", "webhook", state="failed", error="bad")
        with trap_jobs() as trap:
            retried = self.Log._cron_retry_failed()
            self.assertEqual(retried, log)
            trap.assert_jobs_count(1, only=log._job_run)
            trap.perform_enqueued_jobs()
        self.assertEqual((log.state, log.attempt_count), ("done", 2))
        self.assertEqual(self.calls, [(self.customer.id, "stock:7", 2)])
        self.assertEqual((exhausted.state, incoming.state), ("failed", "failed"))
        with trap_jobs() as trap:
            self.Log._cron_retry_failed()
            trap.assert_jobs_count(0)

    def test_channel_per_system(self):
        bank = self.env["crm.exchange.system"].create({"name": "Bank", "code": "bank_test"})
        self.assertEqual(bank.channel_id.complete_name, "root.crm_bank_test")
        again = self.env["crm.exchange.system"].create(
            {"name": "Bank 2", "code": "bank_test", "company_id": self.env.company.id}
        )
        self.assertEqual(again.channel_id, bank.channel_id)

    def test_cancel(self):
        log = self.Log._journal(
            self.system,
            "out",
            "push_stock",
            state="failed",
            record=self.customer,
            error="x",
            handler="_crm_exchange_test_send",
        )
        log.action_cancel()
        self.assertEqual(log.state, "cancelled")
        with trap_jobs() as trap:
            self.Log._cron_retry_failed()
            trap.assert_jobs_count(0)
