import importlib

from odoo import api, models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    @api.model
    def _crm_load_demo(self, module):
        """Build the demo data of the CrmAI addon ``module``: the entry point of its demo file
        (``<function model="ir.module.module" name="_crm_load_demo" eval="['<addon>']"/>``), as
        Odoo loads demo files only for a database with demo data.

        The builder is plain Python in ``<addon>/demo/builder.py`` (``load(env)``), imported
        here and only here: a database without demo data never imports any demo code."""
        loading = self.search_count(
            [("name", "=", module), ("state", "in", ("installed", "to install", "to upgrade"))], limit=1
        )
        if not module.startswith("crm_") or not loading:
            raise ValueError(f"{module} is not an installed CrmAI addon")
        importlib.import_module(f"odoo.addons.{module}.demo.builder").load(self.env)
