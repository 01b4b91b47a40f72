/** @odoo-module **/
import {Component} from "@odoo/owl";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/** Plays the audio file whose URL the field holds (a call recording). */
export class CrmAudioField extends Component {
    static template = "crm_single_truth.CrmAudioField";
    static props = {...standardFieldProps};

    get src() {
        return this.props.record.data[this.props.name] || "";
    }
}

export const crmAudioField = {
    component: CrmAudioField,
    displayName: "Audio player",
    supportedTypes: ["char"],
};

registry.category("fields").add("crm_audio", crmAudioField);
