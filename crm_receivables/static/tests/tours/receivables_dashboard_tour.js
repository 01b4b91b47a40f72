/** @odoo-module **/
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_receivables_dashboard_tour", {
    steps: () => [
        {trigger: ".o_crm_receivables_dashboard .o_crm_recv_tile_total", content: "KPI tiles are shown"},
        {
            trigger: ".o_crm_recv_debtor.table-danger:contains('Dashboard Tour Debtor LLP')",
            content: "A critical debtor is red",
            run: "click",
        },
        {trigger: ".o_list_view .o_data_row", content: "Its unpaid invoices"},
        {trigger: ".o_list_view .o_data_row:contains('99,999,999.00')", content: "The amount of its invoice"},
    ],
});

registry.category("web_tour.tours").add("crm_receivables_card_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_notebook .nav-link:contains('Receivables')",
            content: "The receivables tab",
            run: "click",
        },
        {trigger: ".o_field_widget[name=crm_paid_invoice_count]:contains('1')", content: "Its payment discipline"},
        {trigger: ".o_field_widget[name=crm_aging_ids] .o_data_row", content: "Its aging"},
        {
            trigger: ".o_crm_payment_chart .o_crm_payment_bar .o_crm_payment_bar_late",
            content: "Payments by month on the card: paid late",
        },
        {trigger: "button[name=action_crm_payment_history]", content: "Payment history", run: "click"},
        {trigger: ".o_graph_view .o_graph_renderer canvas", content: "Payments by month as a chart"},
    ],
});

registry.category("web_tour.tours").add("crm_receivables_invoice_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_notebook .nav-link:contains('Reminders')",
            content: "Reminders and postpay",
            run: "click",
        },
        {trigger: ".o_field_widget[name=crm_postpay_state]", content: "Postpay status"},
        {trigger: "button[name=action_crm_write_off]", content: "Write it off", run: "click"},
        {
            trigger: ".o_form_view .o_field_widget[name=amount]:contains('500.00')",
            content: "A draft write-off of the open amount",
        },
        {trigger: ".o_field_widget[name=reason] textarea", content: "Why", run: "edit Liquidated"},
        {trigger: ".o_form_button_save", content: "Save the request", run: "click"},
        {trigger: ".o_form_view .o_field_widget[name=name]:contains('WO/')", content: "Saved with its number"},
        {trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)", content: "Nothing left to save"},
        {
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Draft')",
            content: "Waiting for approval",
        },
    ],
});

registry.category("web_tour.tours").add("crm_receivables_settings_tour", {
    steps: () => [
        {trigger: ".settings_tab .tab[data-key=crm_single_truth]", content: "The CrmAI settings", run: "click"},
        {trigger: ".o_setting_box [name=crm_critical_amount] input", content: "Critical debt threshold"},
        {trigger: ".o_setting_box [name=crm_unusual_delay_margin] input", content: "Unusual delay margin"},
        {trigger: ".o_setting_box [name=crm_bad_debt_account_id] input", content: "Bad-debt account"},
        {trigger: ".o_setting_box:contains('excellent up to 1 day')", content: "The payment rating rule"},
    ],
});

// Demo: ТОО «КазЛогистик» owes an invoice 40 days overdue; the dunning cron, late, sent only the
// highest level due (the escalation to the sales manager at 14 days).
registry.category("web_tour.tours").add("crm_receivables_demo_tour", {
    steps: () => [
        {
            trigger: ".o_crm_recv_debtor:contains('КазЛогистик')",
            content: "The late payer among the top debtors",
            run: "click",
        },
        {trigger: ".o_list_view .o_data_row:contains('INV/')", content: "Its overdue invoice"},
        {trigger: ".o_list_view .o_data_row:contains('INV/') td[name=name]", content: "Open the invoice", run: "click"},
        {trigger: ".o_form_view .o_notebook .nav-link:contains('Reminders')", content: "Its reminders", run: "click"},
        {
            trigger: ".o_field_widget[name=crm_dunning_event_ids] .o_data_row:contains('Escalation')",
            content: "The escalation was done, once",
            run() {
                const rows = document.querySelectorAll(".o_field_widget[name=crm_dunning_event_ids] .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`expected one reminder, found ${rows.length}`);
                }
            },
        },
    ],
});

// Demo: the late payer's 40-days-overdue invoice makes it a critical (red) debtor.
registry.category("web_tour.tours").add("crm_receivables_demo_dashboard_tour", {
    steps: () => [
        {trigger: ".o_crm_receivables_dashboard .o_crm_recv_tile_total", content: "What customers owe"},
        {trigger: ".o_crm_recv_debtor.table-danger:contains('КазЛогистик')", content: "The late payer is critical"},
    ],
});
