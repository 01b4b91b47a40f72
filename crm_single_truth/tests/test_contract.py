from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestContract(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "ТОО Контракт", "is_company": True})
        cls.manager = cls.env["res.users"].create({"name": "Contract Owner", "login": "contract.owner"})
        cls.expiry_type = cls.env.ref("crm_single_truth.mail_activity_type_contract_expiry")

    def make(self, **values):
        return self.env["crm.contract"].create({
            "name": values.pop("name", "K-1"),
            "partner_id": self.partner.id,
            "user_id": self.manager.id,
            "date_start": date(2026, 1, 1),
            "date_end": date(2026, 12, 31),
            **values,
        })

    def expiry_activities(self, contract):
        return contract.activity_ids.filtered(lambda a: a.activity_type_id == self.expiry_type)

    def test_reminder_once_then_expiry(self):
        contract = self.make(expiry_reminder_days=30)
        contract.action_activate()
        Contract = self.env["crm.contract"]
        Contract._cron_check_expiry(date_ref=date(2026, 11, 30))  # 31 days before the end
        self.assertFalse(self.expiry_activities(contract))
        Contract._cron_check_expiry(date_ref=date(2026, 12, 1))  # 30 days before
        activity = self.expiry_activities(contract)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager)
        self.assertEqual(activity.date_deadline, date(2026, 12, 31))
        Contract._cron_check_expiry(date_ref=date(2026, 12, 1))  # rerun the same day
        Contract._cron_check_expiry(date_ref=date(2026, 12, 15))  # and later
        self.assertEqual(len(self.expiry_activities(contract)), 1)
        self.assertEqual(contract.state, "active")
        Contract._cron_check_expiry(date_ref=date(2026, 12, 31))  # last day: still active
        self.assertEqual(contract.state, "active")
        Contract._cron_check_expiry(date_ref=date(2027, 1, 1))
        self.assertEqual(contract.state, "expired")
        self.assertFalse(self.expiry_activities(contract))

    def test_draft_contracts_do_not_expire(self):
        contract = self.make()
        self.env["crm.contract"]._cron_check_expiry(date_ref=date(2027, 6, 1))
        self.assertEqual(contract.state, "draft")

    def test_renewal_continues_for_the_same_length(self):
        contract = self.make(penalty_rate=0.1, penalty_grace_days=5, penalty_cap_percent=10.0)
        contract.action_activate()
        action = contract.action_renew()
        renewal = self.env["crm.contract"].browse(action["res_id"])
        self.assertEqual(renewal.date_start, date(2027, 1, 1))
        self.assertEqual(renewal.date_end, date(2027, 12, 31))
        self.assertEqual(renewal.state, "draft")
        self.assertEqual((renewal.penalty_rate, renewal.penalty_grace_days, renewal.penalty_cap_percent), (0.1, 5, 10.0))
        self.assertEqual(contract.renewal_id, renewal)
        self.assertEqual(renewal.renewed_from_id, contract)
        with self.assertRaises(UserError):
            contract.action_renew()
        self.assertEqual(self.partner.crm_contract_count, 2)

    def test_bad_input_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "ends before it starts"):
            self.make(date_end=date(2025, 12, 31))
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.make(name="K-2", penalty_rate=-1)
        with self.assertRaises(UserError):
            self.make(name="K-3", date_end=False).action_renew()
        contract = self.make(name="K-4")
        contract.action_terminate()
        with self.assertRaises(UserError):
            contract.action_activate()
