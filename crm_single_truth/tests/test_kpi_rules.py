from datetime import date
from decimal import Decimal

from odoo.tests import BaseCase

from ..tools.kpi import combine_contributions, payment_rating, split_period, temperature, weighted_delay


class TestKpiRules(BaseCase):
    """The rules of the KPIs, without a database."""

    def test_weighted_delay_and_rating(self):
        self.assertIsNone(weighted_delay(0, 0))
        self.assertEqual(payment_rating(None), "none")
        # 3000 paid on time, 1000 paid 20 days late: 5 days
        self.assertEqual(weighted_delay(4000, 20000), 5.0)
        # open overdue items weigh in: 1000 overdue by 50 days against 3000 paid on time
        self.assertEqual(weighted_delay(3000, 0, 1000, 50000), 12.5)
        expected = {0: "excellent", 1: "excellent", 1.01: "good", 7: "good", 7.5: "fair", 30: "fair", 30.01: "poor"}
        self.assertEqual({delay: payment_rating(delay) for delay in expected}, expected)

    def test_temperature(self):
        self.assertFalse(temperature(None, 30, 90))
        self.assertEqual(
            [temperature(days, 30, 90) for days in (0, 30, 31, 90, 91)], ["hot", "hot", "warm", "warm", "cold"]
        )

    def test_split_period(self):
        # unbounded: the whole aggregate
        self.assertEqual(split_period(None, None), (None, None, []))
        # 12 months back from 30 November 2026: the rest of November 2025 from the documents,
        # whole months from December 2025 on
        self.assertEqual(
            split_period(date(2025, 11, 30), None),
            (date(2025, 12, 1), None, [(date(2025, 11, 30), date(2025, 11, 30))]),
        )
        # whole months only
        self.assertEqual(split_period(date(2024, 1, 1), date(2024, 3, 31)), (date(2024, 1, 1), date(2024, 3, 1), []))
        # two partial edges around whole months
        first, last, edges = split_period(date(2024, 1, 15), date(2024, 4, 10))
        self.assertEqual((first, last), (date(2024, 2, 1), date(2024, 3, 1)))
        self.assertEqual(edges, [(date(2024, 1, 15), date(2024, 1, 31)), (date(2024, 4, 1), date(2024, 4, 10))])
        # inside one month: one edge, no whole month
        first, last, edges = split_period(date(2024, 5, 3), date(2024, 5, 20))
        self.assertGreater(first, last)
        self.assertEqual(edges, [(date(2024, 5, 3), date(2024, 5, 20))])
        # a period ending before it starts is empty
        first, last, edges = split_period(date(2024, 5, 3), date(2024, 5, 1))
        self.assertGreater(first, last)
        self.assertEqual(edges, [])

    def test_combine_contributions(self):
        key = (7, 1, date(2026, 1, 1))
        unpaid = {
            "ltv": Decimal("100.10"),
            "order_count": 1,
            "paid_amount": Decimal(0),
            "paid_delay_amount": Decimal(0),
        }
        paid = dict(unpaid, paid_amount=Decimal("100.10"), paid_delay_amount=Decimal("500.50"))
        # paid: only the payment measures change; the purchase day is unchanged, so no re-read
        changes = combine_contributions([(key, unpaid, date(2026, 1, 5))], [(key, paid, date(2026, 1, 5))])
        deltas, added, removed = changes[key]
        self.assertEqual(deltas["ltv"], 0)
        self.assertEqual(deltas["paid_delay_amount"], Decimal("500.50"))
        self.assertEqual((added, removed), ([], []))
        # cancelled: everything goes, the day is removed
        deltas, added, removed = combine_contributions([(key, paid, date(2026, 1, 5))], [])[key]
        self.assertEqual(deltas["ltv"], Decimal("-100.10"))
        self.assertEqual(deltas["order_count"], -1)
        self.assertEqual(removed, [date(2026, 1, 5)])
        # nothing changed: no key
        self.assertEqual(combine_contributions([(key, paid, None)], [(key, paid, None)]), {})
