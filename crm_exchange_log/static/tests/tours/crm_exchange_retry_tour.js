/** @odoo-module **/
import {registry} from "@web/core/registry";

// Demo: МашСтрой's first invoice never reached 1C (a SOAP fault after five attempts).
registry.category("web_tour.tours").add("crm_exchange_retry_tour", {
    steps: () => [
        {trigger: ".o_list_view .o_data_row:contains('push_invoice')", content: "The failed exchanges are listed"},
        {
            trigger: ".o_list_view .o_data_row:contains('Договор')",
            content: "The 1C error is shown in the journal",
        },
        {trigger: ".o_list_view .o_data_row:contains('Договор') td[name=operation]", content: "Open it", run: "click"},
        {
            trigger: ".o_form_view .o_field_widget[name=error_message]:contains('реквизит «Договор» не заполнен')",
            content: "The error in full",
        },
        {trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Failed')", content: "It failed"},
        {trigger: ".o_form_view button[name=action_retry]", content: "Send it again", run: "click"},
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Pending')",
            content: "It is waiting for its job",
        },
        {
            trigger: ".o_form_view:not(:has(button[name=action_retry]:visible))",
            content: "No second retry while it waits",
        },
    ],
});
