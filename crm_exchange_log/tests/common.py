from odoo.tests import TransactionCase


class ExchangeCommon(TransactionCase):
    """A test system and a customer; created in the test transaction, so the journal writes
    failures in it too (a separate cursor cannot see uncommitted systems)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Log = cls.env["crm.exchange.log"]
        cls.system = cls.env["crm.exchange.system"].create(
            {
                "name": "Warehouse",
                "code": "warehouse_test",
                "max_attempts": 3,
                "retry_delay": 30,
                "company_id": cls.env.company.id,
                "channel_id": cls.env.ref("crm_exchange_log.queue_channel_onec").id,
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "ТОО «Тест Обмен»", "is_company": True})
        cls.contact = cls.env["res.partner"].create({"name": "Контакт", "parent_id": cls.customer.id})
