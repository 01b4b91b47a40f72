from odoo import models


class QueueJob(models.Model):
    _inherit = "queue.job"

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("failed", "cancelled", "pending"):
            exchange_jobs = self.filtered(lambda job: job.model_name == "crm.exchange.log")
            if exchange_jobs:
                self.env["crm.exchange.log"]._sync_job_states(exchange_jobs)
        return result
