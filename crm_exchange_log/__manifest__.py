{
    "name": "CrmAI: Exchanges",
    "summary": "Journal of every exchange with outside systems (1C, website, telephony, bank), "
    "end-to-end tracing, retry and alerts, and the 1C SOAP adapter built on zeep.",
    "version": "18.0.1.1.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_single_truth", "sale_crm", "queue_job"],
    "external_dependencies": {"python": ["zeep"]},
    "data": [
        "security/crm_exchange_log_security.xml",
        "security/ir.model.access.csv",
        "data/crm_exchange_data.xml",
        "views/crm_exchange_log_views.xml",
        "views/crm_exchange_system_views.xml",
        "views/crm_exchange_report_views.xml",
        "views/document_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/crm_sales_history_import_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/crm_exchange_log_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_exchange_log/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
