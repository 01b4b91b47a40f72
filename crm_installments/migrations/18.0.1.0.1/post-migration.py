from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Installment lines are reminded by crm_receivables' dunning cron (*CrmAI: dunning reminders*),
    with the invoices, through one engine: the scheduled action *CrmAI: installment reminders* that
    ran the same engine on installments alone goes. Its record is ``noupdate`` data, which an
    update does not remove: it is deleted here, with its server action."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("crm_installments.ir_cron_send_reminders", raise_if_not_found=False)
    if cron:
        action = cron.ir_actions_server_id
        cron.unlink()
        action.unlink()
