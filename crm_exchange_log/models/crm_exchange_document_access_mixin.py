from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tools import SQL


class CrmExchangeDocumentAccessMixin(models.AbstractModel):
    """Records about a document (``res_model``/``res_id``) that a user reads when they may read the
    document, as ``mail.activity`` does; ``_document_access_bypass`` says who sees all of them
    (the company rules still apply). Writing is left to the access rights of the model."""

    _name = "crm.exchange.document.access.mixin"
    _description = "Access Following the Document"

    @api.model
    def _document_access_bypass(self):
        return self.env.su

    @api.model
    def _get_document_access_domain(self):
        """Records of the documents the user can read, one subquery per document model."""
        self.flush_model(["res_model"])
        # the few document models, by a skip scan of the res_model index
        self.env.cr.execute(
            SQL(
                """
            WITH RECURSIVE models AS (
                (SELECT res_model FROM %(table)s WHERE res_model IS NOT NULL ORDER BY res_model LIMIT 1)
                UNION ALL
                SELECT (SELECT t.res_model FROM %(table)s t WHERE t.res_model > models.res_model
                         ORDER BY t.res_model LIMIT 1)
                  FROM models WHERE models.res_model IS NOT NULL
            )
            SELECT res_model FROM models WHERE res_model IS NOT NULL
            """,
                table=SQL.identifier(self._table),
            )
        )
        domains = []
        for (model,) in self.env.cr.fetchall():
            if model not in self.env or model == self._name:
                continue
            Model = self.env[model]
            if not Model.has_access("read"):
                continue
            domains.append([("res_model", "=", model), ("res_id", "in", Model._search([]))])
        return expression.OR(domains) if domains else expression.FALSE_DOMAIN

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if not self._document_access_bypass():
            domain = expression.AND([domain, self._get_document_access_domain()])
        return super()._search(domain, offset=offset, limit=limit, order=order)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if not self or self._document_access_bypass():
            return result
        records = self - result[0] if result else self
        if not records:
            return result
        if operation != "read":
            forbidden = records
        else:
            allowed_ids = set()
            by_model = {}
            for record in records.sudo():
                by_model.setdefault(record.res_model, []).append(record)
            for model, model_records in by_model.items():
                if not model or model not in self.env or model == self._name:
                    continue
                documents = self.env[model].browse({rec.res_id for rec in model_records if rec.res_id}).exists()
                readable_ids = set(documents._filtered_access("read").ids)
                allowed_ids.update(rec.id for rec in model_records if rec.res_id in readable_ids)
            forbidden = records.filtered(lambda rec: rec.id not in allowed_ids)
        if not forbidden:
            return result
        denied = (result[0] | forbidden) if result else forbidden

        def make_error():
            return AccessError(_("You cannot see exchanges of documents you cannot read."))

        return denied, make_error
