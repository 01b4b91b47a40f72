import {Component} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/**
 * An installment plan as a timeline: one block per line, as wide as its amount, coloured by its
 * state (paid, partial, pending, overdue); the date and amount show on hover. The lines come
 * formatted from the server in a Json field.
 */
export class CrmInstallmentTimeline extends Component {
    static template = "crm_installments.InstallmentTimeline";
    static props = {...standardFieldProps};

    get lines() {
        const value = this.props.record.data[this.props.name];
        return (value && value.lines) || [];
    }

    get total() {
        return this.lines.reduce((sum, line) => sum + line.amount, 0) || 1;
    }

    get legend() {
        return [
            {state: "paid", label: _t("Paid")},
            {state: "partial", label: _t("Partially paid")},
            {state: "pending", label: _t("Pending")},
            {state: "overdue", label: _t("Overdue")},
        ];
    }

    width(line) {
        // small lines stay visible
        return Math.max((100 * line.amount) / this.total, 2);
    }

    title(line) {
        return line.tooltip;
    }
}

export const crmInstallmentTimeline = {
    component: CrmInstallmentTimeline,
    supportedTypes: ["json"],
};

registry.category("fields").add("crm_installment_timeline", crmInstallmentTimeline);
