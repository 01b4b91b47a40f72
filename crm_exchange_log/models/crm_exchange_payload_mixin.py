import base64

from odoo import _, api, fields, models

from ..services.masking import to_text

PAYLOAD_GROUPS = "crm_exchange_log.group_exchange_integrator,base.group_system"
DEFAULT_ATTACHMENT_THRESHOLD = 64 * 1024  # characters
PREVIEW_SIZE = 2000
# text field -> file field holding the whole text when it is over the threshold
PAYLOAD_FIELDS = {"request_payload": "request_payload_file", "response_payload": "response_payload_file"}


class CrmExchangePayloadMixin(models.AbstractModel):
    """What an exchange sent and received, secrets masked. A payload over the threshold keeps a
    preview in its text field and the whole text in a file field: an attachment that Odoo lets
    only the field's groups read (``ir.attachment`` checks ``res_field``), never whoever can read
    the document or the journal entry."""

    _name = "crm.exchange.payload.mixin"
    _description = "Exchange Payloads"

    request_payload = fields.Text(groups=PAYLOAD_GROUPS)
    response_payload = fields.Text(groups=PAYLOAD_GROUPS)
    request_payload_file = fields.Binary(string="Full Request", attachment=True, copy=False, groups=PAYLOAD_GROUPS)
    response_payload_file = fields.Binary(string="Full Response", attachment=True, copy=False, groups=PAYLOAD_GROUPS)
    request_payload_filename = fields.Char(compute="_compute_payload_filenames", groups=PAYLOAD_GROUPS)
    response_payload_filename = fields.Char(compute="_compute_payload_filenames", groups=PAYLOAD_GROUPS)

    def _compute_payload_filenames(self):
        for record in self:
            record.request_payload_filename = f"request-{record.id}.txt"
            record.response_payload_filename = f"response-{record.id}.txt"

    @api.model
    def _payload_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param("crm_exchange_log.attachment_threshold")
        return int(value) if value else DEFAULT_ATTACHMENT_THRESHOLD

    @api.model
    def _prepare_payload_vals(self, vals, threshold):
        """Mask the payloads of ``vals`` (in place); a payload over ``threshold`` characters goes
        whole to its file field and leaves a preview."""
        for text_field, file_field in PAYLOAD_FIELDS.items():
            if text_field not in vals:
                continue
            text = to_text(vals[text_field])
            vals[file_field] = False
            if text and len(text) > threshold:
                vals[file_field] = base64.b64encode(text.encode("utf-8"))
                text = text[:PREVIEW_SIZE] + "\n" + _("[... truncated: full payload attached]")
            vals[text_field] = text
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        threshold = self._payload_threshold()
        for vals in vals_list:
            self._prepare_payload_vals(vals, threshold)
        return super().create(vals_list)

    def write(self, vals):
        if any(key in vals for key in PAYLOAD_FIELDS):
            vals = self._prepare_payload_vals(dict(vals), self._payload_threshold())
        return super().write(vals)

    def _payload_text(self, text_field):
        """The whole payload of one record (from its file when it was too large for the field)."""
        self.ensure_one()
        data = self[PAYLOAD_FIELDS[text_field]]
        return base64.b64decode(data).decode("utf-8") if data else self[text_field]
