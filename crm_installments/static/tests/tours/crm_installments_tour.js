import {registry} from "@web/core/registry";

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

// A sale order of 1,200,000 ₸ becomes four monthly installments of 300,000 ₸; a payment of
// 300,000 ₸ turns the first one green in the schedule widget.
registry.category("web_tour.tours").add("crm_installments_from_sale_order_tour", {
    steps: () => [
        {
            content: "Plan the confirmed order in installments",
            trigger: ".o_form_view button[name=action_crm_create_installment_plan]",
            run: "click",
        },
        {
            content: "The plan takes the order's total",
            trigger: ".o_field_widget[name=amount_total] input:value(1,200,000.00)",
        },
        {content: "Four installments", trigger: ".o_field_widget[name=installment_count] input", run: "edit 4"},
        {content: "Compute the schedule", trigger: ".o_form_view button[name=action_compute_schedule]", run: "click"},
        {
            content: "Four pending lines in the widget",
            trigger: ".o_crm_installment_timeline:has(.o_crm_timeline_item[data-state='pending']:eq(3))",
        },
        {content: "Confirm the plan", trigger: ".o_form_view button[name=action_confirm]", run: "click"},
        {content: "Register a payment", trigger: ".o_form_view button[name=action_register_payment]", run: "click"},
        {content: "of 300,000", trigger: ".modal .o_field_widget[name=amount] input", run: "edit 300000"},
        {content: "Register it", trigger: ".modal button[name=action_register]", run: "click"},
        {
            content: "The first installment is paid now",
            trigger: ".o_crm_installment_timeline .o_crm_timeline_item[data-state='paid']",
        },
        {
            content: "and three remain",
            trigger: ".o_crm_installment_timeline:not(:has(.o_crm_timeline_item[data-state='pending']:eq(3)))",
        },
        {content: "The plan shows what was paid", trigger: ".o_field_widget[name=amount_paid]:contains('300,000.00')"},
    ],
});
