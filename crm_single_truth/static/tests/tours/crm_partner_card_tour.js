/** @odoo-module **/
import {registry} from "@web/core/registry";

function assertNoOverflow(selector) {
    for (const el of document.querySelectorAll(selector)) {
        if (el.scrollWidth > el.clientWidth + 1) {
            throw new Error(`${selector} overflows: ${el.scrollWidth}px of content in ${el.clientWidth}px`);
        }
    }
}

// МашСтрой (demo): 23 purchases for 14,350,000 ₸ in three years, 8 of them for 2,800,000 ₸ in the last 12 months.
const cardSteps = () => [
    {trigger: ".o_form_view .o_crm_kpi_header", content: "The dossier header is on the card"},
    {trigger: ".o_field_widget[name=crm_period_ltv]:contains('14,350,000.00')", content: "Bought, all time"},
    {trigger: ".o_field_widget[name=crm_period_order_count]:contains('23')", content: "Orders, all time"},
    {trigger: ".o_field_widget[name=crm_period_avg_check]:contains('623,913.04')", content: "Average check"},
    {trigger: ".o_field_widget[name=crm_payment_rating]:contains('Excellent')", content: "Pays on time"},
    {trigger: ".o_crm_kpi_period .o_radio_input[data-value='12m']", content: "Last 12 months", run: "click"},
    {trigger: ".o_field_widget[name=crm_period_ltv]:contains('2,800,000.00')", content: "Bought in 12 months"},
    {trigger: ".o_field_widget[name=crm_period_order_count]:contains('8')", content: "Orders in 12 months"},
    {
        trigger: ".o_field_widget[name=crm_period_avg_check]:contains('350,000.00')",
        content: "Average check in 12 months",
    },
    {trigger: ".o_crm_kpi_period .o_radio_input[data-value='3y']", content: "Last 3 years", run: "click"},
    {
        trigger: ".o_field_widget[name=crm_period_ltv]:contains('14,350,000.00')",
        content: "Bought in 3 years: everything",
    },
    {trigger: ".o_form_button_cancel", content: "The period is a view setting: nothing to save", run: "click"},
    {trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)", content: "The card is clean again"},
    {
        trigger: ".o_crm_kpi_tiles",
        content: "The header stays inside the screen",
        run() {
            assertNoOverflow(".o_crm_kpi_header");
            assertNoOverflow(".o_crm_kpi_tiles");
            assertNoOverflow(".o_form_sheet");
        },
    },
];

registry.category("web_tour.tours").add("crm_partner_card_tour", {steps: cardSteps});

registry.category("web_tour.tours").add("crm_partner_timeline_tour", {
    steps: () => [
        {trigger: ".o-form-buttonbox .o_button_more", content: "More smart buttons", run: "click"},
        {trigger: ".o_dropdown_more button[name=action_crm_open_timeline]", content: "Open the timeline", run: "click"},
        {trigger: ".o_list_view .o_data_row", content: "The timeline lists the events"},
        {trigger: ".o_searchview_dropdown_toggler", content: "Open the filters", run: "click"},
        {
            trigger: ".o_filter_menu .o_menu_item:contains('Messengers')",
            content: "Only messenger messages",
            run: "click",
        },
        {trigger: ".o_searchview_facet:contains('Messengers')", content: "The filter is applied"},
        {
            trigger: ".o_list_view .o_data_row:contains('Telegram')",
            content: "Only WhatsApp and Telegram messages remain: two of each",
            async run() {
                const expected = JSON.stringify(["Telegram", "Telegram", "WhatsApp", "WhatsApp"]);
                const current = () =>
                    JSON.stringify(
                        [...document.querySelectorAll(".o_list_view .o_data_row")]
                            .map((row) => row.querySelector("[name=kind]").textContent.trim())
                            .sort()
                    );
                // the facet shows at once, the list follows when the filtered search answers
                for (let wait = 0; wait < 100 && current() !== expected; wait++) {
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
                const kinds = JSON.parse(current());
                if (JSON.stringify(kinds) !== expected) {
                    throw new Error(`Timeline rows are ${JSON.stringify(kinds)}, expected ${expected}`);
                }
            },
        },
        {trigger: ".o_searchview_dropdown_toggler", run: "click"},
    ],
});
