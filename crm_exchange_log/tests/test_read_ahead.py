import io
import itertools
import threading

from odoo.tests import BaseCase, tagged

from ..services import enterprise_data as ed
from ..services.read_ahead import read_ahead


def _readers():
    return [thread for thread in threading.enumerate() if thread.name == "crm-read-ahead"]


@tagged("post_install", "-at_install")
class TestReadAhead(BaseCase):
    def test_items_in_order_whatever_the_limit(self):
        self.assertEqual(list(read_ahead(iter(range(1000)), limit=3)), list(range(1000)))
        self.assertEqual(_readers(), [], "the reading thread has ended")

    def test_error_raised_where_its_item_would_have_come(self):
        def items():
            yield 1
            yield 2
            raise ed.FormatError("Body expected after the Header, found Other")

        received = []
        with self.assertRaisesRegex(ed.FormatError, "Body expected"):
            for item in read_ahead(items(), limit=10):
                received.append(item)
        self.assertEqual(received, [1, 2])
        self.assertEqual(_readers(), [])

    def test_closed_early_the_reading_stops(self):
        produced = itertools.count()
        items = read_ahead(produced, limit=4)
        self.assertEqual([next(items) for _index in range(5)], [0, 1, 2, 3, 4])
        items.close()
        self.assertEqual(_readers(), [])
        self.assertLessEqual(next(produced), 5 + 4 + 2, "no more than the limit read ahead")

    def test_message_read_in_the_thread_as_in_the_stream(self):
        """The objects come copied out of the stream, the batched kinds read; one the reader
        refuses comes unread (it is read again, and its error journaled, where it is applied)."""
        sale = {
            "ref": "11111111-0000-4000-8000-000000000001",
            "date": "2026-11-02T10:00:00",
            "number": "0000-000001",
            "organization": {"name": "ТОО «Дала Техника»"},
            "currency": {"code": "398", "name": "KZT"},
            "amount_total": 1500,
            "price_include": True,
            "partner": {"ref": "11111111-0000-4000-8000-000000000002", "name": "ТОО «МашСтрой»", "is_company": True},
            "lines": [{"name": "Станок", "quantity": 1, "amount": 1500, "price": 1500, "vat_rate": None}],
        }
        broken = ed.sale({**sale, "ref": "11111111-0000-4000-8000-000000000003"})
        broken.remove(broken.find(f"{{{ed.DATA_NS}}}Валюта"))
        message = ed.build_message(
            {"exchange_plan": "Синхро", "message_no": 1, "received_no": 0, "from": "1C", "to": "CRM"},
            [ed.sale(sale), broken],
        )
        items = list(read_ahead(ed.iter_read(io.BytesIO(message)), limit=1))
        self.assertEqual(
            [(kind, values is None) for kind, _node, values in items[1:]], [(ed.SALE, False), (ed.SALE, True)]
        )
        _kind, node, values = items[1]
        self.assertEqual((items[0][0], items[0][1]["message_no"]), ("Header", 1))
        self.assertEqual((values["ref"], values["number"], values["amount_total"]), (sale["ref"], "0000-000001", 1500))
        self.assertEqual(ed.read_sale(node), values, "the element is whole, not cleared by the stream")
        with self.assertRaises(ed.FormatError):
            ed.read_sale(items[2][1])
