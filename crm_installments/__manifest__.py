{
    "name": "CrmAI: Installments",
    "summary": "Installment plans from sale orders, invoices and contracts, payment allocation oldest-first, contractual penalties (пени), reminders and subscriptions.",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_receivables"],
    "data": [
        "security/ir.model.access.csv",
        "views/menus.xml",
    ],
    "installable": True,
}
