"""Consistency checks of the generated dataset: SQL assertions over everything, then Odoo's own
computations on samples and on the whole partner ledger."""

import random

from odoo import Command

from .generate import log


class CheckFailed(Exception):
    pass


def sql_zero(cr, what, query, params=None):
    cr.execute(f"SELECT COUNT(*) FROM ({query}) q", params or {})
    bad = cr.fetchone()[0]
    if bad:
        cr.execute(f"{query} LIMIT 5", params or {})
        raise CheckFailed(f"{what}: {bad} rows, e.g. {cr.fetchall()}")
    log("  ok  %s", what)


def run_checks(env, gen):
    cr = env.cr
    env.flush_all()
    # ------------------------------------------------------------- SQL, all documents
    sql_zero(
        cr,
        "every posted move is balanced",
        """
        SELECT l.move_id FROM account_move_line l JOIN account_move m ON m.id = l.move_id
         WHERE m.state = 'posted' GROUP BY l.move_id
        HAVING ROUND(SUM(l.debit) - SUM(l.credit), 2) != 0 OR ROUND(SUM(l.balance), 2) != 0""",
    )
    sql_zero(
        cr,
        "debit/credit agree with balance on every line",
        """
        SELECT id FROM account_move_line WHERE ROUND(debit - credit - balance, 2) != 0
            OR (debit != 0 AND credit != 0) OR amount_currency != balance""",
    )
    sql_zero(
        cr,
        "residual of reconcilable lines = balance - partials",
        """
        SELECT l.id FROM account_move_line l JOIN account_account a ON a.id = l.account_id
          LEFT JOIN LATERAL (SELECT COALESCE(SUM(amount), 0) AS s FROM account_partial_reconcile WHERE
              debit_move_id = l.id) d ON TRUE
          LEFT JOIN LATERAL (SELECT COALESCE(SUM(amount), 0) AS s FROM account_partial_reconcile WHERE
              credit_move_id = l.id) c ON TRUE
         WHERE a.reconcile AND (ROUND(l.balance - d.s + c.s - l.amount_residual, 2) != 0
               OR l.reconciled != (ROUND(l.amount_residual, 2) = 0))""",
    )
    sql_zero(
        cr,
        "full reconciliations are complete and zero-sum",
        """
        SELECT f.id FROM account_full_reconcile f JOIN account_move_line l ON l.full_reconcile_id = f.id
         GROUP BY f.id HAVING ROUND(SUM(l.balance), 2) != 0 OR BOOL_OR(NOT l.reconciled)
                        OR BOOL_OR(l.matching_number IS DISTINCT FROM f.id::text)""",
    )
    sql_zero(
        cr,
        "partials and lines agree on the full reconciliation",
        """
        SELECT p.id FROM account_partial_reconcile p
          JOIN account_move_line d ON d.id = p.debit_move_id JOIN account_move_line c ON c.id = p.credit_move_id
         WHERE d.full_reconcile_id IS DISTINCT FROM p.full_reconcile_id
            OR c.full_reconcile_id IS DISTINCT FROM p.full_reconcile_id
            OR d.partner_id != c.partner_id OR d.account_id != c.account_id
            OR (p.full_reconcile_id IS NULL
                AND (d.matching_number != 'P' || p.id OR c.matching_number != 'P' || p.id))""",
    )
    sql_zero(
        cr,
        "invoice residual = open receivable of its lines",
        """
        SELECT m.id FROM account_move m
          JOIN account_move_line l ON l.move_id = m.id JOIN account_account a ON a.id = l.account_id
         WHERE m.move_type IN ('out_invoice', 'out_refund') AND m.state = 'posted' AND a.account_type =
             'asset_receivable'
         GROUP BY m.id HAVING ROUND(ABS(SUM(l.amount_residual)) - MAX(m.amount_residual), 2) != 0
                          OR ROUND(SUM(l.balance) - MAX(m.amount_total_signed), 2) != 0""",
    )
    sql_zero(
        cr,
        "payment_state agrees with the residual",
        """
        SELECT m.id FROM account_move m WHERE m.move_type IN ('out_invoice', 'out_refund') AND m.state = 'posted'
            AND NOT (
              (m.payment_state IN ('paid', 'reversed', 'in_payment') AND m.amount_residual = 0)
           OR (m.payment_state = 'not_paid' AND m.amount_residual = m.amount_total)
           OR (m.payment_state = 'partial' AND m.amount_residual > 0 AND m.amount_residual < m.amount_total))""",
    )
    sql_zero(
        cr,
        "generated receivable per customer = what the plan wrote",
        """
        WITH expected AS (
            SELECT cpartner_id AS pid,
                   SUM(amount) - SUM(COALESCE(pay_amount, 0)) - SUM(CASE WHEN fate = 'reversed' THEN amount ELSE 0
                       END) AS balance,
                   SUM(amount - COALESCE(pay_amount, 0) - CASE WHEN fate = 'reversed' THEN amount ELSE 0 END) AS
                       residual
              FROM bench_doc GROUP BY 1
        ), actual AS (
            SELECT l.partner_id AS pid, SUM(l.balance) AS balance, SUM(l.amount_residual) AS residual
              FROM account_move_line l JOIN account_account a ON a.id = l.account_id
             WHERE a.account_type = 'asset_receivable' AND l.parent_state = 'posted'
               AND l.partner_id IN (SELECT id FROM bench_partner) GROUP BY 1
        )
        SELECT e.pid, e.balance, a.balance FROM expected e FULL JOIN actual a ON a.pid = e.pid
         WHERE ROUND(COALESCE(e.balance, 0) - COALESCE(a.balance, 0), 2) != 0
            OR ROUND(COALESCE(e.residual, 0) - COALESCE(a.residual, 0), 2) != 0""",
    )
    sql_zero(
        cr,
        "names unique per journal",
        """
        SELECT journal_id, name FROM account_move WHERE state = 'posted' GROUP BY 1, 2 HAVING COUNT(*) > 1""",
    )
    if gen.has_kpi:
        sql_zero(
            cr,
            "KPI aggregate (LTV, purchases) = what the plan wrote",
            """
            WITH expected AS (
                SELECT cpartner_id AS pid,
                       SUM(amount) - SUM(CASE WHEN fate = 'reversed' THEN amount ELSE 0 END) AS ltv,
                       COUNT(*) AS order_count
                  FROM bench_doc GROUP BY 1
            )
            SELECT e.pid FROM expected e LEFT JOIN crm_partner_kpi k ON k.partner_id = e.pid
             WHERE k.id IS NULL OR ROUND(k.ltv - e.ltv, 2) != 0 OR k.order_count != e.order_count""",
        )

    # ------------------------------------------------------------- Odoo's computations
    env.invalidate_all()
    Partner = env["res.partner"]
    cr.execute(
        "SELECT cpartner_id, "
        "SUM(amount - COALESCE(pay_amount, 0) - CASE WHEN fate = 'reversed' THEN amount ELSE 0 END) "
        "FROM bench_doc GROUP BY 1"
    )
    expected = dict(cr.fetchall())
    partners = Partner.browse(list(expected))
    bad = [
        (p.id, p.credit, float(expected[p.id]))
        for p in partners
        if env.company.currency_id.compare_amounts(p.credit, float(expected[p.id]))
    ]
    if bad:
        raise CheckFailed(
            f"stock res.partner.credit differs from the generated receivable: {len(bad)} customers, e.g. {bad[:5]}"
        )
    log("  ok  stock res.partner.credit of all %d customers = generated receivable", len(partners))

    # the stock partner ledger (journal items grouped by partner on the receivable account)
    groups = env["account.move.line"]._read_group(
        [
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("partner_id", "in", partners.ids),
        ],
        ["partner_id"],
        ["balance:sum", "amount_residual:sum"],
    )
    cr.execute(
        "SELECT cpartner_id, SUM(amount) - SUM(COALESCE(pay_amount, 0)) "
        "- SUM(CASE WHEN fate = 'reversed' THEN amount ELSE 0 END) FROM bench_doc GROUP BY 1"
    )
    balances = dict(cr.fetchall())
    currency = env.company.currency_id
    bad = [(p.id, bal) for p, bal, _res in groups if currency.compare_amounts(bal, float(balances.get(p.id, 0)))]
    missing = [pid for pid, bal in balances.items() if bal and pid not in {p.id for p, _b, _r in groups}]
    if bad or missing:
        raise CheckFailed(f"partner ledger differs for {len(bad)} customers, e.g. {bad[:5]}, missing {missing[:5]}")
    log("  ok  stock partner ledger (receivable balance by partner) = generated documents")

    # Odoo recomputes residuals and payment states of a sample: nothing changes
    cr.execute("SELECT move_id FROM bench_doc ORDER BY n")
    move_ids = [r[0] for r in cr.fetchall()]
    cr.execute(
        "SELECT ref_move_id FROM bench_doc WHERE ref_move_id IS NOT NULL UNION ALL "
        "SELECT pay_move_id FROM bench_doc WHERE pay_move_id IS NOT NULL"
    )
    other_ids = [r[0] for r in cr.fetchall()]
    rnd = random.Random(7)
    sample = env["account.move"].browse(
        rnd.sample(move_ids, min(500, len(move_ids))) + rnd.sample(other_ids, min(200, len(other_ids)))
    )
    before = {m.id: (m.payment_state, m.amount_residual, m.amount_total, m.amount_total_signed) for m in sample}
    lines_before = {aml.id: (aml.amount_residual, aml.reconciled, aml.matching_number) for aml in sample.line_ids}
    cr.execute("SAVEPOINT bench_check")
    fnames = ["payment_state", "amount_residual", "amount_total", "amount_total_signed", "amount_residual_signed"]
    env.add_to_compute(env["account.move.line"]._fields["amount_residual"], sample.line_ids)
    env.add_to_compute(env["account.move.line"]._fields["reconciled"], sample.line_ids)
    for fname in fnames:
        env.add_to_compute(sample._fields[fname], sample)
    sample.line_ids.flush_recordset()
    sample.flush_recordset()
    env.invalidate_all()
    after = {m.id: (m.payment_state, m.amount_residual, m.amount_total, m.amount_total_signed) for m in sample}
    lines_after = {aml.id: (aml.amount_residual, aml.reconciled, aml.matching_number) for aml in sample.line_ids}
    cr.execute("ROLLBACK TO SAVEPOINT bench_check")
    env.invalidate_all()
    diff = [(k, before[k], after[k]) for k in before if before[k] != after[k]]
    ldiff = [(k, lines_before[k], lines_after[k]) for k in lines_before if lines_before[k] != lines_after[k]]
    if diff or ldiff:
        raise CheckFailed(f"Odoo recomputes other values: moves {diff[:5]} lines {ldiff[:5]}")
    log("  ok  Odoo's recomputation of %d moves and %d lines changes nothing", len(sample), len(lines_before))

    # register a payment on a generated open invoice with the ORM: it reconciles
    cr.execute(
        "(SELECT move_id, amount, pay_amount FROM bench_doc WHERE fate = 'unpaid' ORDER BY n LIMIT 1) UNION ALL "
        "(SELECT move_id, amount, pay_amount FROM bench_doc WHERE fate = 'partial' ORDER BY n LIMIT 1)"
    )
    open_invoices = cr.fetchall()
    cr.execute("SAVEPOINT bench_pay")
    for move_id, amount, pay_amount in open_invoices:
        invoice = env["account.move"].browse(move_id)
        partner = invoice.commercial_partner_id
        credit_before = partner.credit
        wizard = (
            env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create({})
        )
        wizard.action_create_payments()
        env.flush_all()
        env.invalidate_all()
        if invoice.payment_state not in ("paid", "in_payment") or not invoice.currency_id.is_zero(
            invoice.amount_residual
        ):
            raise CheckFailed(
                f"registering a payment on {invoice.name} leaves {invoice.payment_state} {invoice.amount_residual}"
            )
        if env.company.currency_id.compare_amounts(partner.credit, credit_before - float(amount - (pay_amount or 0))):
            raise CheckFailed(f"credit of {partner.name} after the payment: {partner.credit}")
        if gen.has_kpi:
            kpi = env["crm.partner.kpi"].search([("partner_id", "=", partner.id)])
            if not kpi:
                raise CheckFailed(f"no KPI row for {partner.name}")
        log(
            "  ok  ORM payment on generated invoice %s (%s) reconciles it: %s",
            invoice.name,
            "partly paid" if pay_amount else "unpaid",
            invoice.payment_state,
        )
    # post a new invoice for a generated customer with the ORM: LTV follows
    product = env["product.product"].search([("name", "=", "Bench service")], limit=1)
    partner = env["account.move"].browse(move_ids[-1]).commercial_partner_id
    ltv_before = partner.crm_ltv if gen.has_kpi else None
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": gen.today,
            "invoice_line_ids": [
                Command.create({"product_id": product.id, "price_unit": 777.0, "tax_ids": [Command.clear()]})
            ],
        }
    )
    invoice.action_post()
    env.flush_all()
    env.invalidate_all()
    if gen.has_kpi and env.company.currency_id.compare_amounts(partner.crm_ltv, ltv_before + 777.0):
        raise CheckFailed(f"LTV of {partner.name} after a new invoice: {partner.crm_ltv} (was {ltv_before})")
    log(
        "  ok  ORM invoice %s posted after the generated ones of its journal%s",
        invoice.name,
        "; crm_ltv follows" if gen.has_kpi else "",
    )
    cr.execute("ROLLBACK TO SAVEPOINT bench_pay")
    env.invalidate_all()
