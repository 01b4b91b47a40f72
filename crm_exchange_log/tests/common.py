from unittest.mock import patch

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


def declare_handler(test, model, name, function):
    """For the duration of ``test``: ``function`` is the exchange handler ``name`` of ``model``,
    declared as the document models declare theirs (``_crm_exchange_handlers``)."""
    cls = type(test.env[model])
    declared = cls._crm_exchange_handlers
    for patcher in (
        patch.object(cls, name, function, create=True),
        patch.object(cls, "_crm_exchange_handlers", lambda self: declared(self) | {name}),
    ):
        patcher.start()
        test.addCleanup(patcher.stop)
