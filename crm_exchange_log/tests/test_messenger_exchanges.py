import email.utils
import json
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.crm_single_truth.report.crm_timeline_event import KINDS
from odoo.addons.crm_single_truth.tests.messenger_common import TG_TOKEN, WA_TOKEN, MessengerSetup
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestMessengerExchanges(MessengerSetup, TransactionCase):
    """Messages to customers go out as journaled exchanges run by queue_job: each attempt is in
    the journal, rate limits and server errors are retried with the system's backoff, a refusal
    is final at once and explained on the message; tokens never reach the journal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.setup_messengers(cls.env)
        cls.whatsapp_system = cls.env.ref("crm_exchange_log.exchange_system_whatsapp")
        cls.whatsapp_system.write({"max_attempts": 3, "retry_delay": 30})
        cls.Log = cls.env["crm.exchange.log"]

    def setUp(self):
        super().setUp()
        self.wa.sent.clear()
        self.wa.requests.clear()
        self.wa.last_inbound.clear()

    def perform(self, job):
        try:
            job.perform()
        except (RetryableJobError, FailedJobError) as error:
            return error
        return None

    def send(self, text="Отгрузим в пятницу."):
        with trap_jobs() as trap:
            message = self.buyer.crm_send_message("whatsapp", text)
            trap.assert_jobs_count(1)
            job = trap.enqueued_jobs[0]
        log = self.Log.search([("res_model", "=", "crm.messenger.message"), ("res_id", "=", message.id)])
        return message, log, job

    def test_sending_is_a_journaled_job(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        self.assertEqual((message.state, log.state, log.operation), ("queued", "pending", "send_whatsapp"))
        self.assertEqual(
            (log.system_id, log.direction, log.idempotency_key),
            (self.whatsapp_system, "out", f"whatsapp:out:{message.id}"),
        )
        self.assertEqual(log.partner_id, self.company_partner)
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 1))
        self.assertIn(message.external_id, log.response_payload)
        self.assertNotIn(WA_TOKEN, (log.request_payload or "") + (log.response_payload or ""))

    def test_rate_limit_is_retried_with_backoff(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        self.wa.throttle(1, retry_after=1)
        error = self.perform(job)
        self.assertIsInstance(error, RetryableJobError)
        self.assertEqual(error.seconds, 30, "a Retry-After shorter than the backoff does not shorten it")
        self.assertEqual((message.state, log.state, log.attempt_count), ("queued", "retrying", 1))
        self.assertIn("tried again automatically", message.error_message)
        self.assertIn("130429", log.error_message + json.dumps(log.attempt_ids.mapped("error_message")))
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 2))
        self.assertFalse(message.error_message)
        self.assertEqual(len(self.wa.sent), 1)

    def assertRetryIn(self, error, log, seconds, started):
        """queue_job postpones the job by ``seconds`` and the journal shows the same next retry."""
        self.assertIsInstance(error, RetryableJobError)
        self.assertEqual(error.seconds, seconds)
        self.assertEqual(log.state, "retrying")
        self.assertGreaterEqual(log.next_retry_at, started + timedelta(seconds=seconds))
        self.assertLessEqual(log.next_retry_at, fields.Datetime.now() + timedelta(seconds=seconds))

    def test_retry_after_of_a_rate_limit_is_honoured(self):
        """A 429 whose Retry-After (120 s) is longer than the backoff (30 s): the job waits 120 s."""
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        self.wa.throttle(1, retry_after=120)
        started = fields.Datetime.now().replace(microsecond=0)
        self.assertRetryIn(self.perform(job), log, 120, started)
        self.assertEqual(message.state, "queued")
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 2))
        self.assertEqual(len(self.wa.sent), 1)

    def test_retry_after_of_an_unavailable_service_is_honoured(self):
        """A 503 with Retry-After in seconds, then as an HTTP date: the job waits that long."""
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        self.wa.fail(1, status=503, retry_after=300)
        started = fields.Datetime.now().replace(microsecond=0)
        self.assertRetryIn(self.perform(job), log, 300, started)
        later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=900), usegmt=True)
        self.wa.fail(1, status=503, retry_after=later)
        error = self.perform(job)
        self.assertIsInstance(error, RetryableJobError)
        self.assertIn(error.seconds, range(897, 901))
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 3))

    def test_telegram_flood_wait_is_honoured(self):
        """Telegram's 429 carries ``parameters.retry_after``: the job waits that long."""
        self.telegram_in(self.env)
        self.env.ref("crm_exchange_log.exchange_system_telegram").write({"max_attempts": 3, "retry_delay": 30})
        with trap_jobs() as trap:
            message = self.buyer.crm_send_message("telegram", "Отгрузка в пятницу.")
            (job,) = trap.enqueued_jobs
        log = self.Log.search([("res_model", "=", "crm.messenger.message"), ("res_id", "=", message.id)])
        self.tg.throttle(1, retry_after=90)
        started = fields.Datetime.now().replace(microsecond=0)
        self.assertRetryIn(self.perform(job), log, 90, started)
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 2))

    def test_server_errors_until_the_last_attempt_fail_the_message(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        self.wa.fail(3)
        errors = [self.perform(job) for _attempt in range(3)]
        # queue_job decides after each failure: postponed while the job has retries left, failed after
        self.assertEqual([type(error) for error in errors], [RetryableJobError, RetryableJobError, FailedJobError])
        self.assertEqual((message.state, log.state, log.attempt_count), ("failed", "failed", 3))
        self.assertIn("not sent after several attempts", message.error_message)
        self.assertEqual(len(self.buyer.message_ids.filtered(lambda m: "not delivered" in (m.body or ""))), 1)

    def test_a_refusal_about_the_customer_is_final_at_once(self):
        self.whatsapp_in(self.env, hours_ago=1)
        self.wa.last_inbound.clear()  # WhatsApp sees no open window: 131047
        message, log, job = self.send()
        self.assertIsNone(self.perform(job), "WhatsApp answered: the exchange is done")
        self.assertEqual((message.state, message.error_code), ("failed", "131047"))
        self.assertIn("More than 24 hours", message.error_message)
        self.assertEqual((log.state, log.attempt_count), ("done", 1))
        self.assertIn("131047", log.response_payload)
        sends = [r for r in self.wa.requests if r["path"].endswith("/messages")]
        self.assertEqual(len(sends), 1, "a refusal is not sent again")

    def test_settings_refused_are_retried_until_fixed(self):
        self.whatsapp_in(self.env, hours_ago=1)
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_token", "revoked")
        message, log, job = self.send()
        error = self.perform(job)
        self.assertIsInstance(error, RetryableJobError)
        self.assertEqual((message.state, log.state), ("queued", "retrying"))
        self.assertIn("access token", message.error_message)
        self.assertIn("tried again automatically", message.error_message)
        # the administrator renews the token: the next attempt goes through
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_token", WA_TOKEN)
        self.assertIsNone(self.perform(job))
        self.assertEqual((message.state, log.state, log.attempt_count), ("sent", "done", 2))

    def test_only_the_declared_handler_runs(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message, log, job = self.send()
        log.sudo().handler = "unlink"
        error = self.perform(job)
        self.assertIsInstance(error, FailedJobError)
        self.assertTrue(message.exists())
        self.assertEqual(message.state, "queued")

    def test_telegram_is_journaled_without_its_token(self):
        self.telegram_in(self.env)
        telegram_system = self.env.ref("crm_exchange_log.exchange_system_telegram")
        with trap_jobs() as trap:
            message = self.buyer.crm_send_message("telegram", "Отгрузка в пятницу.")
            trap.perform_enqueued_jobs()
        log = self.Log.search([("res_model", "=", "crm.messenger.message"), ("res_id", "=", message.id)])
        self.assertEqual((log.system_id, log.state, message.state), (telegram_system, "done", "sent"))
        self.assertNotIn(
            TG_TOKEN, (log.request_payload or "") + (log.response_payload or "") + (log.error_message or "")
        )

    def test_inbound_deliveries_are_journaled_even_with_a_lone_surrogate(self):
        # systems of the test transaction: a failure is then journaled in it, not committed aside
        system = self.env["crm.exchange.system"].create(
            {"name": "Telegram (test)", "code": "telegram", "company_id": self.env.company.id}
        )
        telephony = self.env["crm.exchange.system"].create(
            {"name": "Telephony (test)", "code": "telephony", "company_id": self.env.company.id}
        )
        Hook = self.env["crm.inbound.delivery"]
        Hook._crm_on_delivery("telegram", {"update_id": 5, "message": {"text": "broken \ud800 text"}}, external_id="5")
        log = self.Log.search([("system_id", "=", system.id), ("idempotency_key", "=", "telegram:5")])
        self.assertEqual(log.state, "done")
        self.assertIn("broken \ufffd text", log.request_payload)
        Hook._crm_on_delivery("mango", {"event": "events/summary"}, error="call_direction must be 0, 1 or 2 \udfff")
        failed = self.Log.search([("system_id", "=", telephony.id), ("state", "=", "failed")])
        self.assertEqual(failed.error_message, "call_direction must be 0, 1 or 2 \ufffd")
        self.assertEqual(failed.operation, "webhook_mango")

    def test_exchange_is_a_timeline_kind_added_by_this_addon(self):
        kinds = dict(self.env["crm.timeline.event"]._fields["kind"].selection)
        self.assertEqual(kinds["exchange"], "Exchange")
        self.assertNotIn("exchange", dict(KINDS))
        self.assertIn("crm_exchange_log", self.env["crm.timeline.event"]._get_timeline_sources())
