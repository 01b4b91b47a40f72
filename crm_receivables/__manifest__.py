{
    "name": "CrmAI: Receivables",
    "summary": "Receivables dashboard, aging buckets of open receivables, dunning escalation with polite-then-firm reminders and payment discipline history.",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_single_truth"],
    "data": [
        "security/ir.model.access.csv",
        "security/crm_receivables_security.xml",
        "views/crm_receivable_aging_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
}
