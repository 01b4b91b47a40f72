/** @odoo-module **/
import {Component, onWillStart, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {formatMonetary} from "@web/views/fields/formatters";

/** Receivables at a glance: KPI tiles and the top debtors, from one server call. */
export class ReceivablesDashboard extends Component {
    static template = "crm_receivables.ReceivablesDashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({data: null});
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("crm.receivable.aging", "get_dashboard_data", []);
    }

    get tiles() {
        const {totals, counts} = this.state.data;
        return [
            {key: "total", label: _t("Total owed"), amount: totals.amount_total, count: counts.debtors, css: ""},
            {
                key: "overdue",
                label: _t("Overdue"),
                amount: totals.amount_overdue,
                count: counts.overdue,
                css: "text-warning",
            },
            {key: "critical", label: _t("Critical customers"), count: counts.critical, css: "text-danger"},
            {key: "not_due", label: _t("Not due"), amount: totals.amount_not_due, css: "text-success"},
            {key: "1_30", label: _t("1-30 days"), amount: totals.amount_1_30, css: "text-warning"},
            {key: "31_60", label: _t("31-60 days"), amount: totals.amount_31_60, css: "text-warning"},
            {key: "61_90", label: _t("61-90 days"), amount: totals.amount_61_90, css: "text-danger"},
            {key: "over_90", label: _t("Over 90 days"), amount: totals.amount_over_90, css: "text-danger"},
        ];
    }

    rowClass(row) {
        return {critical: "table-danger", overdue: "table-warning", not_due: "table-success"}[row.status];
    }

    format(amount) {
        return formatMonetary(amount, {currencyId: this.state.data.currency_id});
    }

    openAging(tile) {
        const context = {search_default_overdue: 0};
        if (tile.key === "overdue") {
            context.search_default_overdue = 1;
        } else if (tile.key === "critical") {
            context.search_default_critical = 1;
        }
        return this.actionService.doAction("crm_receivables.crm_receivable_aging_action", {
            additionalContext: context,
        });
    }

    async openDebtor(row) {
        const action = await this.orm.call("crm.receivable.aging", "action_open_items", [[row.id]]);
        return this.actionService.doAction(action);
    }
}

registry.category("actions").add("crm_receivables.dashboard", ReceivablesDashboard);
