"""The pure rules of tools/, without a database."""

from datetime import date
from functools import partial

from odoo.tests import BaseCase, tagged
from odoo.tools import float_compare, float_round

from odoo.addons.crm_installments.tools import penalty_segments, reconcile_penalties, split_amount

ROUND = partial(float_round, precision_rounding=0.01)
COMPARE = partial(float_compare, precision_rounding=0.01)
DUE = date(2025, 1, 31)


@tagged("post_install", "-at_install")
class TestSplitAmount(BaseCase):
    def test_never_negative_and_exact(self):
        # 0.09 in 6: rounding 0.015 up to 0.02 would leave -0.01 for the last line
        self.assertEqual(split_amount(0.09, 6, ROUND, 0.01), [0.01] * 5 + [0.04])
        self.assertEqual(split_amount(0.06, 6, ROUND, 0.01), [0.01] * 6)
        self.assertEqual(split_amount(100.0, 3, ROUND, 0.01), [33.33, 33.33, 33.34])
        self.assertEqual(split_amount(1000.0, 6, ROUND, 0.01), [166.67] * 5 + [166.65])
        for total, count in ((0.09, 6), (0.11, 7), (2.0, 120), (999.99, 7), (10.0, 3), (0.5, 50)):
            parts = split_amount(total, count, ROUND, 0.01)
            self.assertEqual(len(parts), count)
            self.assertTrue(all(part >= 0 for part in parts), (total, count, parts))
            self.assertEqual(ROUND(sum(parts)), total, (total, count))

    def test_less_than_a_unit_per_part_refused(self):
        with self.assertRaises(ValueError):
            split_amount(0.05, 6, ROUND, 0.01)
        self.assertEqual(split_amount(10.0, 0, ROUND, 0.01), [])


@tagged("post_install", "-at_install")
class TestReconcilePenalties(BaseCase):
    def segments(self, day, payments=()):
        return penalty_segments(DUE, 1_000_000, list(payments), 0.1, 5, 10.0, day, ROUND)

    def stored(self, segments, first_id=1, invoiced=False):
        return [
            {
                "id": first_id + index,
                "date_from": segment["date_from"],
                "date": segment["date_to"],
                "days": segment["days"],
                "base": segment["base"],
                "amount": segment["amount"],
                "invoiced": invoiced,
            }
            for index, segment in enumerate(segments)
        ]

    def test_first_run_creates_every_run(self):
        segments = self.segments(date(2025, 3, 2))
        keep, delete, create, correction = reconcile_penalties([], segments, date(2025, 3, 2), ROUND, COMPARE)
        self.assertEqual((keep, delete, correction), ([], [], None))
        self.assertEqual(
            [(s["date_from"], s["days"], s["amount"]) for s in create],
            [
                (date(2025, 2, 6), 23, 23_000.0),
                (date(2025, 3, 1), 2, 2_000.0),
            ],
        )

    def test_rerun_changes_nothing_and_next_day_replaces_the_open_run(self):
        day = date(2025, 3, 2)
        existing = self.stored(self.segments(day))
        self.assertEqual(reconcile_penalties(existing, self.segments(day), day, ROUND, COMPARE), ([1, 2], [], [], None))
        keep, delete, create, correction = reconcile_penalties(
            existing, self.segments(date(2025, 3, 3)), date(2025, 3, 3), ROUND, COMPARE
        )
        self.assertEqual((keep, delete, correction), ([1], [2], None))
        self.assertEqual([(s["date_from"], s["days"], s["amount"]) for s in create], [(date(2025, 3, 1), 3, 3_000.0)])

    def test_duplicate_run_is_deleted_never_charged_twice(self):
        day = date(2025, 3, 2)
        existing = self.stored(self.segments(day)) + self.stored(self.segments(day)[:1], first_id=10)
        keep, delete, create, _correction = reconcile_penalties(existing, self.segments(day), day, ROUND, COMPARE)
        self.assertEqual((keep, delete, create), ([1, 2], [10], []))

    def test_invoiced_runs_are_frozen_a_difference_is_one_correction(self):
        day = date(2025, 3, 2)
        invoiced = self.stored(self.segments(day), invoiced=True)
        # paid in full on day 16 (back-dated): February now costs 10 days, not 23
        paid = [(DUE + (date(2025, 2, 16) - DUE), 1_000_000)]
        keep, delete, create, correction = reconcile_penalties(invoiced, self.segments(day, paid), day, ROUND, COMPARE)
        self.assertEqual((keep, delete, create), ([], [], []))
        self.assertEqual(correction, 10_000.0 - 25_000.0)
        # the correction, once stored, is kept by the next runs
        stored = [
            *invoiced,
            {"id": 99, "date_from": day, "date": day, "days": 0, "base": 0.0, "amount": correction, "invoiced": False},
        ]
        self.assertEqual(
            reconcile_penalties(stored, self.segments(date(2025, 4, 1), paid), date(2025, 4, 1), ROUND, COMPARE),
            ([99], [], [], None),
        )
