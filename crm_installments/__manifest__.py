{
    "name": "CrmAI: Installments",
    "summary": "Installment plans from sale orders, invoices and contracts, payment allocation oldest-first, "
    "contractual penalties (пени), reminders and subscriptions.",
    "version": "18.0.1.1.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_receivables"],
    "data": [
        "security/ir.model.access.csv",
        "security/crm_installments_security.xml",
        "data/ir_sequence_data.xml",
        "data/product_data.xml",
        "data/crm_installment_dunning_data.xml",
        "data/crm_subscription_mail_data.xml",
        "data/ir_cron_data.xml",
        "views/crm_installment_plan_views.xml",
        "views/crm_installment_line_views.xml",
        "views/crm_subscription_views.xml",
        "views/crm_installments_inherit_views.xml",
        "views/crm_subscription_report_views.xml",
        "wizards/crm_installment_restructure_views.xml",
        "wizards/crm_installment_penalty_invoice_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/crm_installments_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_installments/static/src/timeline/installment_timeline.js",
            "crm_installments/static/src/timeline/installment_timeline.xml",
            "crm_installments/static/src/timeline/installment_timeline.scss",
        ],
        "web.assets_tests": [
            "crm_installments/static/tests/tours/crm_installments_tour.js",
        ],
    },
    "installable": True,
}
