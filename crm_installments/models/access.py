"""Explicit group checks of the public entry points: every public method is callable through
RPC by any logged-in user, hiding a button is not a permission."""

from odoo import _
from odoo.exceptions import AccessError

# who works with installment plans and subscriptions: salespeople and invoicing users
PLAN_GROUPS = ("crm_single_truth.group_crm_user", "account.group_account_invoice")
# who may cancel a payment or bill penalties: CRM managers and invoicing users
MONEY_GROUPS = ("crm_single_truth.group_crm_manager", "account.group_account_invoice")


def check_groups(env, groups):
    """Raise a translated AccessError unless the user (or code running as superuser) belongs to
    one of ``groups`` (xml ids)."""
    if env.su or any(env.user.has_group(group) for group in groups):
        return
    names = ", ".join(env.ref(group).sudo().full_name for group in groups)
    raise AccessError(_("This operation is reserved to the groups: %(groups)s.", groups=names))
