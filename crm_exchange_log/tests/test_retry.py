from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import ExchangeCommon, declare_handler


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

        declare_handler(self, "res.partner", "_crm_exchange_test_send", handler)

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

    # ------------------------------------------------------------------ queue_job owns the retries
    def _run_as_runner(self, log):
        """One run of the stored job as queue_job's runner does it (``RunJobController._runjob``),
        without its commits: started, performed, then done, postponed or failed."""
        job = Job.load(self.env, log.job_uuid)
        job.set_started()
        job.store()
        try:
            job.perform()
        except RetryableJobError as error:
            job.postpone(result=str(error), seconds=error.seconds)
            job.set_pending(reset_retry=False)
            job.store()
            return error
        except FailedJobError as error:
            job.set_failed(exc_name=type(error).__name__, exc_message=str(error))
            job.store()
            return error
        job.set_done()
        job.store()
        return None

    def test_the_job_counts_the_attempts(self):
        """The job's max_retries, not a count of the journal, decides when to give up: raising the
        system's attempts afterwards does not change a job already made."""
        self.outcomes = ["down"] * 5
        log = self._enqueue()
        job = log.job_id
        self.assertEqual((job.state, job.max_retries, job.channel), ("pending", 3, "root.crm_onec"))
        self.system.max_attempts = 10
        now = fields.Datetime.now()
        error = self._run_as_runner(log)
        self.assertIsInstance(error, RetryableJobError)
        self.assertEqual((job.state, job.retry, log.state, log.attempt_count), ("pending", 1, "retrying", 1))
        self.assertAlmostEqual(job.eta, now + timedelta(seconds=30), delta=timedelta(seconds=5))
        self.assertEqual(self._run_as_runner(log).seconds, 60)
        error = self._run_as_runner(log)
        self.assertIsInstance(error, FailedJobError)
        self.assertEqual((job.state, job.retry), ("failed", 3))
        self.assertEqual((log.state, log.attempt_count, log.next_retry_at), ("failed", 3, False))
        self.assertEqual(log.attempt_ids.mapped("job_id"), job)
        with trap_jobs() as trap:
            self.Log._cron_retry_failed()
            trap.assert_jobs_count(0)  # queue_job gave up: retried by hand only
        self.assertEqual(len(self.calls), 3)

    def test_cancelled_exchange_is_not_sent(self):
        with trap_jobs() as trap:
            log = self._enqueue()
            log.action_cancel()
            self.assertIsNone(self._perform(trap.enqueued_jobs[0]))
        self.assertEqual(self.calls, [])
        self.assertEqual(
            (log.state, log.attempt_count, log.attempt_ids), ("cancelled", 0, self.env["crm.exchange.attempt"])
        )

    def test_cancel_and_the_job_queue_agree(self):
        log = self._enqueue()
        log.action_cancel()
        self.assertEqual(log.job_id.state, "cancelled", "the job is cancelled with the exchange")
        other = self._enqueue()
        other.job_id.button_cancelled()  # from Settings > Technical > Job Queue
        self.assertEqual(other.state, "cancelled")
        other.job_id.requeue()
        self.assertEqual(other.state, "pending")
        self.assertIsNone(self._run_as_runner(other))
        self.assertEqual((other.state, other.job_id.state), ("done", "done"))

    def test_only_declared_handlers_run(self):
        with self.assertRaises(UserError):
            self.Log._enqueue(self.system, "push_stock", self.customer, "unlink")
        log = self.Log.create(
            {
                "system_id": self.system.id,
                "direction": "out",
                "operation": "push_stock",
                "state": "failed",
                "res_model": "res.partner",
                "res_id": self.customer.id,
                "handler": "unlink",
            }
        )
        with trap_jobs() as trap:
            log.action_retry()
            error = self._perform(trap.enqueued_jobs[0])
        self.assertIsInstance(error, FailedJobError)
        self.assertTrue(self.customer.exists(), "a handler nobody declared never runs")
        self.assertEqual((log.state, log.attempt_count), ("failed", 1))
        self.assertEqual(log.error_message, "unlink is not an exchange handler of res.partner.")

    def test_retry_replaces_the_waiting_job(self):
        self.outcomes = ["down"]
        log = self._enqueue()
        first = log.job_id
        self.assertIsInstance(self._run_as_runner(log), RetryableJobError)
        self.assertEqual((log.state, first.state), ("retrying", "pending"))
        log.action_retry()
        second = log.job_id
        self.assertNotEqual(second, first)
        self.assertEqual((first.state, second.state, log.state), ("cancelled", "pending", "pending"))
        self.assertIsNone(self._run_as_runner(log))
        self.assertEqual((log.state, log.attempt_count, len(self.calls)), ("done", 2, 2))
