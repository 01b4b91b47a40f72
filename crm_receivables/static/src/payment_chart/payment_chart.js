/** @odoo-module **/
import {Component} from "@odoo/owl";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/** Paid invoices per month of payment as stacked bars: on time (green) and late (orange). */
export class CrmPaymentChart extends Component {
    static template = "crm_receivables.CrmPaymentChart";
    static props = {...standardFieldProps};

    get chart() {
        return this.props.record.data[this.props.name] || {bars: [], currency: ""};
    }

    get max() {
        return Math.max(1, ...this.chart.bars.map((bar) => bar.on_time + bar.late));
    }

    height(value) {
        return `${Math.round((value / this.max) * 100)}%`;
    }

    get isEmpty() {
        return !this.chart.bars.some((bar) => bar.on_time || bar.late);
    }
}

export const crmPaymentChart = {
    component: CrmPaymentChart,
    displayName: "Payments by month",
    supportedTypes: ["json"],
};

registry.category("fields").add("crm_payment_chart", crmPaymentChart);
