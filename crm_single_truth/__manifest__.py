{
    "name": "CrmAI: Customer Single Source of Truth",
    "summary": "Customer dossier on the partner card: lifetime value, orders, debt, "
    "payment discipline, B2B legal data, contact roles and contracts",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["contacts", "mail", "crm", "sale_management", "account", "utm"],
    "data": [
        "security/crm_single_truth_security.xml",
        "security/ir.model.access.csv",
        "data/res_lang_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "data/crm_contract_data.xml",
        "views/res_partner_views.xml",
        "views/res_partner_legal_views.xml",
        "views/crm_contract_views.xml",
        "views/crm_partner_kpi_views.xml",
        "views/crm_timeline_event_views.xml",
        "views/sale_order_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/crm_single_truth_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_single_truth/static/src/scss/crm_kpi_header.scss",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": True,
}
