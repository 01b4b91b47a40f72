# Demo data builder: imported only by ir.module.module._crm_load_demo, when demo data is loaded.
