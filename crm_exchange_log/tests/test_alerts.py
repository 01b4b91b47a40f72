from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import ExchangeCommon


@tagged("post_install", "-at_install")
class TestAlerts(ExchangeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integrator = new_test_user(
            cls.env, "exchange_integrator", groups="crm_exchange_log.group_exchange_integrator"
        )
        cls.system.write(
            {
                "responsible_user_ids": [(6, 0, cls.integrator.ids)],
                "alert_window": 60,
                "alert_failure_count": 3,
                "alert_failure_rate": 50.0,
                "alert_min_volume": 4,
            }
        )

    def _log(self, state, count=1):
        for _i in range(count):
            self.Log._journal(self.system, "out", "sync", state=state, error="boom" if state == "failed" else None)

    def _alert_messages(self):
        # the notes of the alert engine, not the "activity done" message of the recovery
        return self.system.message_ids.filtered(
            lambda message: message.subtype_id == self.env.ref("mail.mt_note") and not message.mail_activity_type_id
        )

    def test_count_threshold_once_per_incident_and_recovery(self):
        self._log("done", 10)
        self._log("failed", 2)
        self.system._check_alerts()
        self.assertFalse(self.system.incident_open, "2 failures of 12: below both thresholds")
        self._log("failed")
        self.system._check_alerts()
        self.assertTrue(self.system.incident_open)
        activities = self.system.activity_ids
        self.assertEqual(activities.user_id, self.integrator)
        self.assertEqual(len(activities), 1)
        notes = self._alert_messages()
        self.assertEqual(len(notes), 1)
        self.assertIn("3 of 13", notes.body)
        # still failing: nothing new
        self._log("failed")
        self.system._check_alerts()
        self.assertEqual(len(self.system.activity_ids), 1)
        self.assertEqual(len(self._alert_messages()), 1)
        # the failures leave the window: healthy again, once
        later = fields.Datetime.now() + timedelta(hours=2)
        self.system._check_alerts(date_ref=later)
        self.assertFalse(self.system.incident_open)
        self.assertFalse(self.system.activity_ids)
        messages = self._alert_messages()
        self.assertEqual(len(messages), 2)
        self.assertIn("healthy again", messages[0].body)
        self.system._check_alerts(date_ref=later)
        self.assertEqual(len(self._alert_messages()), 2)

    def test_rate_threshold(self):
        self.system.alert_failure_count = 0
        self._log("done", 2)
        self._log("failed", 1)
        self.env["crm.exchange.system"]._cron_check_alerts()
        self.assertFalse(self.system.incident_open, "3 exchanges: below the minimum volume for a rate")
        self._log("failed", 1)
        self.env["crm.exchange.system"]._cron_check_alerts()
        self.assertTrue(self.system.incident_open, "2 of 4 failed = 50%")
        self.assertEqual(self.system.failure_rate, 50.0)
