{
    "name": "CrmAI: Receivables",
    "summary": "Receivables dashboard, aging buckets of open receivables, dunning escalation with "
    "polite-then-firm reminders and payment discipline history.",
    "version": "18.0.1.2.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_single_truth"],
    "data": [
        "security/ir.model.access.csv",
        "security/crm_receivables_security.xml",
        "data/mail_template_data.xml",
        "data/crm_dunning_data.xml",
        "data/crm_discipline_data.xml",
        "data/crm_writeoff_data.xml",
        "views/crm_receivable_aging_views.xml",
        "views/crm_dunning_views.xml",
        "views/crm_payment_discipline_views.xml",
        "views/crm_bad_debt_writeoff_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/crm_receivables_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_receivables/static/src/dashboard/receivables_dashboard.js",
            "crm_receivables/static/src/dashboard/receivables_dashboard.xml",
            "crm_receivables/static/src/dashboard/receivables_dashboard.scss",
            "crm_receivables/static/src/payment_chart/payment_chart.js",
            "crm_receivables/static/src/payment_chart/payment_chart.xml",
            "crm_receivables/static/src/payment_chart/payment_chart.scss",
        ],
        "web.assets_tests": [
            "crm_receivables/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
