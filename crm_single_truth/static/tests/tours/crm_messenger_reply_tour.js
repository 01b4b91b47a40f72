/** @odoo-module **/
import {registry} from "@web/core/registry";
import {rpc} from "@web/core/network/rpc";

const REPLY = "Отгрузим в пятницу, счёт пришлём сегодня.";

async function waitForDelivery() {
    for (let attempt = 0; attempt < 100; attempt++) {
        const delivered = await rpc("/web/dataset/call_kw/crm.messenger.message/search_count", {
            model: "crm.messenger.message",
            method: "search_count",
            args: [
                [
                    ["body", "=", REPLY],
                    ["state", "=", "delivered"],
                ],
            ],
            kwargs: {},
        });
        if (delivered) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error("WhatsApp never reported the reply as delivered");
}

// A manager answers a customer's WhatsApp message from the customer's card and sees it delivered.
registry.category("web_tour.tours").add("crm_messenger_reply_tour", {
    steps: () => [
        {
            trigger: ".o-mail-Message:contains('Когда отгрузка станков?')",
            content: "The customer's WhatsApp message is in the chatter",
            run: "hover && click .o-mail-Message:contains('Когда отгрузка станков?') [title='Reply on WhatsApp']",
        },
        {trigger: ".modal .o_field_widget[name=recipient]:contains('WhatsApp')", content: "The reply goes to WhatsApp"},
        {trigger: ".modal .o_field_widget[name=body] textarea", content: "Write the answer", run: `edit ${REPLY}`},
        {trigger: ".modal button[name=action_send]", content: "Send it", run: "click"},
        {trigger: `.o-mail-Message:contains('${REPLY}')`, content: "The answer is in the chatter, beside the question"},
        {trigger: "body", content: "WhatsApp reports the delivery", run: waitForDelivery},
        {
            trigger: ".o-form-buttonbox",
            content: "Open the contact's own history",
            async run() {
                const button = () => document.querySelector(".o-form-buttonbox button[name=action_crm_open_timeline]");
                if (!button()) {
                    document.querySelector(".o-form-buttonbox .o_button_more").click();
                    await new Promise((resolve) => setTimeout(resolve, 300));
                }
                (button() || document.querySelector(".o_dropdown_more button[name=action_crm_open_timeline]")).click();
            },
        },
        {
            trigger: `.o_list_view .o_data_row:contains('${REPLY}') [name=state]:contains('delivered')`,
            content: "The answer was delivered",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Когда отгрузка станков?') [name=state]:contains('received')",
            content: "...next to the customer's message",
        },
    ],
});
