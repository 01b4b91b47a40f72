import { registry } from "@web/core/registry";

// The timeline widget draws every line of the plan in the colour of its state.
registry.category("web_tour.tours").add("crm_installments_timeline_tour", {
    steps: () => [
        {
            content: "The timeline shows the overdue line",
            trigger: ".o_crm_installment_timeline .o_crm_timeline_item[data-state='overdue']",
        },
        {
            content: "and the pending ones, with the date and amount on hover",
            trigger: ".o_crm_installment_timeline .o_crm_timeline_item[data-state='pending'][title*='2']",
        },
        {
            content: "and a legend",
            trigger: ".o_crm_installment_timeline .o_crm_timeline_legend",
        },
    ],
});

// On the customer's card, the Installments tab holds the same timeline.
registry.category("web_tour.tours").add("crm_installments_partner_tour", {
    steps: () => [
        {
            content: "Open the Installments tab",
            trigger: ".o_notebook .nav-link[name='crm_installments']",
            run: "click",
        },
        {
            content: "The timeline shows the overdue line",
            trigger: ".o_crm_installment_timeline .o_crm_timeline_item[data-state='overdue']",
        },
        {
            content: "and the plan",
            trigger: ".o_field_widget[name='crm_installment_plan_ids'] .o_data_row",
        },
    ],
});
