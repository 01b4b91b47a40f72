/** @odoo-module **/
import {registry} from "@web/core/registry";

// Demo: 13 customers have bought for 1,000,000 ₸ or more (with the website order of ТОО «Сарыарка Металл»), one of them (МашСтрой) for 14,000,000 ₸ or more.
registry.category("web_tour.tours").add("crm_segment_editor_tour", {
    steps: () => [
        {trigger: ".o_list_view .o_list_button_add", content: "Create a segment", run: "click"},
        {trigger: ".o_field_widget[name=name] input", content: "Name it", run: "edit Крупные покупатели"},
        {trigger: ".o_field_widget[name=code] input", content: "Give it a code", run: "edit large_buyers"},
        {
            trigger: ".o_field_widget[name=rule_ids] .o_field_x2many_list_row_add a",
            content: "Add a condition",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=rule_ids] .o_data_row .o_field_widget[name=field_name] select",
            content: "On the lifetime value",
            run: 'select "crm_ltv"',
        },
        {
            trigger: ".o_field_widget[name=rule_ids] .o_data_row .o_field_widget[name=operator] select",
            content: "At least",
            run: 'select ">="',
        },
        {
            trigger: ".o_field_widget[name=rule_ids] .o_data_row .o_field_widget[name=value] input",
            content: "1,000,000",
            run: "edit 1000000",
        },
        {trigger: ".o_field_widget[name=name] input", content: "Leave the line", run: "click"},
        {trigger: ".o_field_widget[name=preview_count]:contains('13')", content: "13 customers match now"},
        {
            trigger: ".o_field_widget[name=rule_ids] .o_data_row td[name=value]",
            content: "Change the amount",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=rule_ids] .o_data_row .o_field_widget[name=value] input",
            content: "14,000,000",
            run: "edit 14000000",
        },
        {trigger: ".o_field_widget[name=name] input", content: "Leave the line", run: "click"},
        {trigger: ".o_field_widget[name=preview_count]:contains('1')", content: "Only МашСтрой matches"},
        {trigger: "button[name=action_refresh]", content: "Save and refresh the members now", run: "click"},
        {trigger: ".o_field_widget[name=partner_count]:contains('1')", content: "The segment has its member"},
        {trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)", content: "Everything is saved"},
    ],
});
