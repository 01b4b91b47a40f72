from lxml import etree

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

USER_GROUP = "crm_single_truth.group_crm_user"


class CrmExchangeConsumerMixin(models.AbstractModel):
    """A document exchanged with outside systems (as edi_oca's ``edi.exchange.consumer.mixin``):
    its form gets the *Exchanges* smart button, it carries the flow (correlation id) it was created
    in and passes it on to the documents made from it, and it declares which of its methods the
    journal may run as outgoing exchanges."""

    _name = "crm.exchange.consumer.mixin"
    _description = "Document Exchanged with Outside Systems"

    crm_exchange_count = fields.Integer(string="Exchanges", compute="_compute_crm_exchange_count")
    crm_correlation_id = fields.Char(
        string="Flow",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Correlation id of the business flow this document was created in (e.g. a website "
        "order); the exchanges about it and the documents created from it share it.",
    )

    def _compute_crm_exchange_count(self):
        # as the user: only the exchanges they may read are counted
        groups = self.env["crm.exchange.log"]._read_group(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)], ["res_id"], ["__count"]
        )
        counts = dict(groups)
        for record in self:
            record.crm_exchange_count = counts.get(record.id, 0)

    def _crm_exchange_partner(self):
        """The customer the exchanges of this document belong to (its timeline shows them)."""
        self.ensure_one()
        return self._crm_exchange_partner_of(self)

    @api.model
    def _crm_exchange_partner_of(self, record):
        """The commercial partner of any record that has one (itself, or its partner's)."""
        if "commercial_partner_id" in record._fields:
            return record.commercial_partner_id
        if "partner_id" in record._fields and record.partner_id:
            return record.partner_id.commercial_partner_id
        return self.env["res.partner"]

    def _crm_exchange_handlers(self):
        """Names of the methods the journal may call to send this document (``handler`` of an
        outgoing exchange, called as ``record.handler(log)``); nothing else is ever run."""
        return frozenset()

    def action_crm_open_exchanges(self):
        """The exchanges of these documents that the user may read."""
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(_("Only CrmAI users can see exchanges."))
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_exchange_log.crm_exchange_log_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        action["context"] = {}
        return action

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            for box in arch.xpath("//div[@name='button_box'][not(ancestor::field)]"):
                box.append(self._crm_exchange_button())
        return arch, view

    @api.model
    def _crm_exchange_button(self):
        button = etree.Element(
            "button",
            name="action_crm_open_exchanges",
            type="object",
            icon="fa-exchange",
            invisible="not crm_exchange_count",
            groups=USER_GROUP,
        )
        button.set("class", "oe_stat_button")
        etree.SubElement(button, "field", name="crm_exchange_count", widget="statinfo", string=_("Exchanges"))
        return button
