import {_t} from "@web/core/l10n/translation";
import {messageActionsRegistry} from "@mail/core/common/message_actions";

// A message that came in through WhatsApp or Telegram is answered there, from the chatter.
messageActionsRegistry.add("crm-messenger-reply", {
    condition: (component) =>
        Boolean(component.props.message.crm_channel) && component.props.thread?.model === "res.partner",
    icon: "fa fa-reply",
    title: (component) =>
        component.props.message.crm_channel === "whatsapp" ? _t("Reply on WhatsApp") : _t("Reply on Telegram"),
    onClick: async (component) => {
        const thread = component.props.thread;
        const action = await component.env.services.orm.call(
            "res.partner",
            `action_crm_reply_${component.props.message.crm_channel}`,
            [[thread.id]]
        );
        await component.env.services.action.doAction(action, {
            onClose: () => thread.fetchNewMessages(),
        });
    },
    sequence: 5,
});
