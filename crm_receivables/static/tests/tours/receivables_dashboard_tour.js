/** @odoo-module **/
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_receivables_dashboard_tour", {
    steps: () => [
        { trigger: ".o_crm_receivables_dashboard .o_crm_recv_tile_total", content: "KPI tiles are shown" },
        {
            trigger: ".o_crm_recv_debtor.table-danger:contains('Dashboard Tour Debtor LLP')",
            content: "A critical debtor is red",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row", content: "Its open receivable items" },
        { trigger: ".o_list_view .o_data_row:contains('99,999,999.00')", content: "The amount of its invoice" },
    ],
});
