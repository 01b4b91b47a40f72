{
    "name": "CrmAI: Exchanges",
    "summary": "Journal of every exchange with outside systems (1C, website, telephony, bank), end-to-end tracing, retry and alerts, and the 1C SOAP adapter built on zeep.",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CrmAI",
    "website": "https://github.com/crmai/crmai",
    "license": "LGPL-3",
    "depends": ["crm_single_truth"],
    "external_dependencies": {"python": ["zeep"]},
    "data": [
        "security/ir.model.access.csv",
        "views/menus.xml",
    ],
    "installable": True,
}
