from odoo import fields, models


class CrmSalesHistoryImportColumn(models.TransientModel):
    """One column of the spreadsheet and what it holds (guessed from its header, editable)."""

    _name = "crm.sales.history.import.column"
    _description = "Sales History Import Column"
    _order = "column_index"

    wizard_id = fields.Many2one("crm.sales.history.import", required=True, ondelete="cascade")
    column_index = fields.Integer(string="Column", readonly=True)
    header = fields.Char(readonly=True)
    field = fields.Selection(
        [
            ("name", "Customer Name"),
            ("legal_id", "INN/BIN"),
            ("number", "Document Number"),
            ("date", "Date"),
            ("amount", "Amount"),
            ("currency", "Currency"),
            ("paid_amount", "Paid Amount"),
            ("paid_date", "Paid Date"),
        ],
        string="Holds",
        help="Leave empty to ignore the column.",
    )
