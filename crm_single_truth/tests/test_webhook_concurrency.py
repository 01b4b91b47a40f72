import threading
import time
import uuid
from functools import partial

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(TransactionCase):
    """Two workers receive deliveries of the same message (or sender, or call) at the same time, on
    real cursors in REPEATABLE READ as Odoo's request loop runs them: one records it; the other
    waits, gets a serialization failure that Odoo's loop retries, and then changes nothing - and
    no "bad query" ERROR reaches the log. Committed data is removed afterwards."""

    def telegram_update(self, chat_id, message_id, username, text="Нужен станок"):
        return {
            "update_id": message_id,
            "message": {
                "message_id": message_id,
                "from": {"id": chat_id, "is_bot": False, "first_name": "Гость", "username": username},
                "chat": {"id": chat_id, "type": "private"},
                "date": 1796000000,
                "text": text,
            },
        }

    def race(self, first_work, second_work):
        """Run ``first_work`` and ``second_work`` (functions of an env) on two cursors whose
        snapshots are both taken before the first commits; the second goes through Odoo's
        ``retrying`` loop as an HTTP request does. Returns their results."""
        results, errors = {}, []
        first_done, second_started = threading.Event(), threading.Event()

        def second():
            try:
                with self.env.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    cr.execute("SELECT 1")  # the snapshot of the request is taken before the other commits
                    second_started.set()
                    first_done.wait(10)
                    results["second"] = retrying(partial(second_work, env), env)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        with self.assertNoLogs("odoo.sql_db", "ERROR"):
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute("SELECT 1")
                thread = threading.Thread(target=second)
                thread.start()
                second_started.wait(10)
                results["first"] = first_work(env)
                first_done.set()
                time.sleep(1.0)
                self.assertTrue(thread.is_alive(), "the second delivery waits for the first to commit")
                cr.commit()  # pylint: disable=invalid-commit
            thread.join(60)
        self.assertFalse(thread.is_alive())
        self.assertEqual(errors, [])
        return results

    def cleanup(self, external_ids=(), addresses=(), call_ids=()):
        def clean():
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                messages = env["crm.messenger.message"].search([("external_id", "in", list(external_ids))])
                chats = env["crm.messenger.chat"].search([("address", "in", list(addresses))])
                leads = (messages.lead_id | chats.lead_id).with_context(active_test=False)
                env["mail.message"].search(
                    [
                        "|",
                        ("id", "in", messages.mail_message_id.ids),
                        "&",
                        ("model", "=", "crm.lead"),
                        ("res_id", "in", leads.ids),
                    ]
                ).unlink()
                messages.unlink()
                chats.unlink()
                leads.unlink()
                env["crm.call"].search([("external_id", "in", list(call_ids))]).unlink()

        self.addCleanup(clean)

    def test_simultaneous_claims_of_one_message(self):
        external_id = f"race-{uuid.uuid4()}"
        self.cleanup(external_ids=[external_id])

        def claim(env):
            return bool(env["crm.messenger.message"]._crm_claim("telegram", external_id))

        results = self.race(claim, claim)
        self.assertEqual((results["first"], results["second"]), (True, False))

    def test_simultaneous_deliveries_of_one_message_are_recorded_once(self):
        chat_id = int(time.time() * 1000) % 10**9
        update = self.telegram_update(chat_id, 501, f"guest{chat_id}")
        self.cleanup(external_ids=[f"{chat_id}:501"], addresses=[str(chat_id)])

        def deliver(env):
            return env["crm.messenger.message"]._crm_process_telegram(update)

        results = self.race(deliver, deliver)
        self.assertTrue(results["first"][0][0])
        self.assertEqual(results["second"], [(False, f"{chat_id}:501")])
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(env["crm.messenger.message"].search_count([("external_id", "=", f"{chat_id}:501")]), 1)

    def test_two_messages_of_one_unknown_sender_open_one_lead(self):
        chat_id = int(time.time() * 1000) % 10**9 + 1
        username = f"guest{chat_id}"
        self.cleanup(external_ids=[f"{chat_id}:601", f"{chat_id}:602"], addresses=[str(chat_id)])

        def first(env):
            return env["crm.messenger.message"]._crm_process_telegram(self.telegram_update(chat_id, 601, username))

        def second(env):
            return env["crm.messenger.message"]._crm_process_telegram(
                self.telegram_update(chat_id, 602, username, text="Токарный")
            )

        results = self.race(first, second)
        self.assertTrue(results["first"][0][0] and results["second"][0][0])
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            messages = env["crm.messenger.message"].search(
                [("external_id", "in", [f"{chat_id}:601", f"{chat_id}:602"])]
            )
            self.assertEqual(len(messages), 2)
            self.assertEqual(len(messages.lead_id), 1, "one lead per sender")

    def test_simultaneous_deliveries_of_one_call(self):
        call_id = f"race-call-{uuid.uuid4()}"
        self.cleanup(call_ids=[call_id])
        payload = {
            "call_id": call_id,
            "phone": "+77770000123",
            "direction": "in",
            "started_at": "2026-11-28T09:15:00+05:00",
            "duration": 30,
        }

        def deliver(env):
            return env["crm.call"]._crm_process_webhook(payload)

        results = self.race(deliver, deliver)
        self.assertTrue(results["first"][0][0])
        self.assertEqual(results["second"], [(False, call_id)])

    def test_the_claim_raises_a_retryable_error_without_logging_it(self):
        """The serialization failure itself, as Odoo's loop sees it: retryable, and not logged."""
        external_id = f"race-{uuid.uuid4()}"
        self.cleanup(external_ids=[external_id])
        caught = []
        with self.env.registry.cursor() as first_cr, self.env.registry.cursor() as second_cr:
            first_env = api.Environment(first_cr, SUPERUSER_ID, {})
            second_env = api.Environment(second_cr, SUPERUSER_ID, {})
            second_cr.execute("SELECT 1")
            first_env["crm.messenger.message"]._crm_claim("telegram", external_id)
            first_cr.commit()  # pylint: disable=invalid-commit
            with self.assertNoLogs("odoo.sql_db", "ERROR"):
                try:
                    second_env["crm.messenger.message"]._crm_claim("telegram", external_id)
                except psycopg2.errors.SerializationFailure as error:
                    caught.append(error)
            second_cr.rollback()
        self.assertEqual(len(caught), 1)
