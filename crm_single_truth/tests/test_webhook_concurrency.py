import threading
import uuid

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(TransactionCase):
    """Two workers receive the same delivery at the same time: one records it, the other waits for
    the first to commit and then changes nothing. Real cursors, committed, cleaned up after."""

    def claim_in_new_cursor(self, channel, external_id, results, key):
        # as Odoo's HTTP layer does (odoo.service.model.retrying): a serialization failure is
        # retried in a new transaction
        with self.env.registry.cursor() as cr:
            for attempt in range(1, 4):
                try:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    results[key] = bool(env["crm.messenger.message"]._crm_claim(channel, external_id))
                    results[f"{key}_attempts"] = attempt
                    cr.commit()  # pylint: disable=invalid-commit
                    return
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()

    def test_simultaneous_deliveries_are_recorded_once(self):
        external_id = f"race-{uuid.uuid4()}"
        results = {}
        try:
            with self.env.registry.cursor() as first_cr:
                first_env = api.Environment(first_cr, SUPERUSER_ID, {})
                results["first"] = bool(first_env["crm.messenger.message"]._crm_claim("telegram", external_id))
                second = threading.Thread(
                    target=self.claim_in_new_cursor, args=("telegram", external_id, results, "second")
                )
                second.start()
                second.join(timeout=1.0)
                self.assertTrue(second.is_alive(), "the second delivery must wait for the first to commit")
                first_cr.commit()
            second.join(timeout=20)
            self.assertFalse(second.is_alive())
            self.assertEqual(results["first"], True)
            self.assertEqual(results["second"], False)
        finally:
            with self.env.registry.cursor() as cr:
                cr.execute("DELETE FROM crm_messenger_message WHERE external_id = %s", [external_id])
