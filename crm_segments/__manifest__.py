{
    "name": "CrmAI: Segments",
    "summary": "Rule-based dynamic customer segments configured by administrators, membership history "
    "and transitions signalled to salespeople.",
    "version": "18.0.1.1.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_single_truth"],
    "data": [
        "security/ir.model.access.csv",
        "security/crm_segments_security.xml",
        "data/crm_segment_data.xml",
        "views/crm_segment_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/crm_segment_members_wizard_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/crm_segments_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_segments/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
