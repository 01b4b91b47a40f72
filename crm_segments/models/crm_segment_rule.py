from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# customer facts a rule may test: field of res.partner -> (kind of value, label of the condition)
RULE_FIELDS = {
    "crm_days_since_last_order": ("integer", "Days since last purchase"),
    "crm_order_count": ("integer", "Purchase count"),
    "crm_avg_check": ("float", "Average check"),
    "crm_ltv": ("float", "Lifetime value"),
    "crm_debt": ("float", "Debt"),
    "crm_overdue_debt": ("float", "Overdue debt"),
    "crm_avg_payment_delay": ("float", "Average payment delay"),
    "crm_payment_rating": ("selection", "Payment rating"),
    "crm_temperature": ("selection", "Temperature"),
    "crm_purchase_drop": ("boolean", "Sharp drop in purchase frequency"),
    "crm_rfm_recency": ("integer", "RFM recency (1-5)"),
    "crm_rfm_frequency": ("integer", "RFM frequency (1-5)"),
    "crm_rfm_monetary": ("integer", "RFM monetary (1-5)"),
    "crm_first_source_id": ("source", "Source of the first deal or order (name)"),
    "crm_first_medium_id": ("medium", "Medium of the first deal or order (name)"),
    "crm_bought_categ_ids": ("category", "Product category bought (name)"),
    "country_id": ("country", "Country (code)"),
    "category_id": ("tag", "Tag (name)"),
}
NUMERIC_OPERATORS = {"=", "!=", ">", ">=", "<", "<="}
EQUALITY_OPERATORS = {"=", "!="}


class CrmSegmentRule(models.Model):
    _name = "crm.segment.rule"
    _description = "Customer Segment Condition"
    _order = "sequence, id"

    segment_id = fields.Many2one("crm.segment", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    field_name = fields.Selection(
        [(fname, label) for fname, (_kind, label) in RULE_FIELDS.items()], string="Customer Fact", required=True
    )
    operator = fields.Selection(
        [("=", "="), ("!=", "≠"), (">", ">"), (">=", "≥"), ("<", "<"), ("<=", "≤")],
        required=True,
        default=">",
    )
    value = fields.Char(
        required=True,
        help="A number, a selection key (e.g. poor, cold), a country code (KZ), a tag name, or true/false.",
    )

    @api.constrains("field_name", "operator", "value")
    def _check_rule(self):
        for rule in self:
            rule._to_domain_leaf()

    def _rule_label(self):
        field_labels = dict(self._fields["field_name"]._description_selection(self.env))
        return f"{field_labels.get(self.field_name)} {self.operator} {self.value}"

    def _to_domain_leaf(self):
        """The partner domain leaf of this condition; a ValidationError names the wrong condition."""
        self.ensure_one()
        kind = RULE_FIELDS.get(self.field_name, (None, None))[0]
        value = (self.value or "").strip()
        if not kind:
            raise ValidationError(_("Unknown customer fact %(field)s.", field=self.field_name))
        allowed = NUMERIC_OPERATORS if kind in ("integer", "float") else EQUALITY_OPERATORS
        if self.operator not in allowed:
            raise ValidationError(
                _(
                    "Condition “%(rule)s”: operator %(operator)s cannot be used here.",
                    rule=self._rule_label(),
                    operator=self.operator,
                )
            )
        try:
            if kind == "integer":
                return (self.field_name, self.operator, int(value))
            if kind == "float":
                return (self.field_name, self.operator, float(value.replace(",", ".").replace(" ", "")))
        except ValueError:
            raise ValidationError(
                _("Condition “%(rule)s”: %(value)s is not a number.", rule=self._rule_label(), value=value)
            ) from None
        if kind == "selection":
            keys = [
                key for key, _label in self.env["res.partner"]._fields[self.field_name]._description_selection(self.env)
            ]
            if value not in keys:
                raise ValidationError(
                    _(
                        "Condition “%(rule)s”: %(value)s is not one of %(keys)s.",
                        rule=self._rule_label(),
                        value=value,
                        keys=", ".join(keys),
                    )
                )
            return (self.field_name, self.operator, value)
        if kind == "boolean":
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValidationError(_("Condition “%(rule)s”: use true or false.", rule=self._rule_label()))
            return (self.field_name, self.operator, value.lower() in ("true", "1"))
        if kind == "country":
            country = self.env["res.country"].search([("code", "=ilike", value)], limit=1)
            if not country:
                raise ValidationError(
                    _("Condition “%(rule)s”: no country has the code %(value)s.", rule=self._rule_label(), value=value)
                )
            return ("country_id", self.operator, country.id)
        if kind in ("source", "medium", "category"):
            model = {"source": "utm.source", "medium": "utm.medium", "category": "product.category"}[kind]
            record = self.env[model].search([("name", "=ilike", value)], limit=1)
            if not record:
                raise ValidationError(
                    _("Condition “%(rule)s”: nothing is named %(value)s.", rule=self._rule_label(), value=value)
                )
            if kind == "category":
                return (self.field_name, "in" if self.operator == "=" else "not in", record.ids)
            return (self.field_name, self.operator, record.id)
        tag = self.env["res.partner.category"].search([("name", "=ilike", value)], limit=1)
        if not tag:
            raise ValidationError(
                _("Condition “%(rule)s”: no tag is named %(value)s.", rule=self._rule_label(), value=value)
            )
        return ("category_id", "in" if self.operator == "=" else "not in", tag.ids)
