"""One dunning engine for every document: events name their document generically and are unique
per (document, level, action); several levels may share a day; levels have a channel."""


def migrate(cr, version):
    cr.execute(
        """
        ALTER TABLE crm_dunning_event ADD COLUMN IF NOT EXISTS res_model varchar,
                                      ADD COLUMN IF NOT EXISTS res_id int4;
        UPDATE crm_dunning_event SET res_model = 'account.move', res_id = move_id
         WHERE res_model IS NULL AND move_id IS NOT NULL;
        ALTER TABLE crm_dunning_event DROP CONSTRAINT IF EXISTS crm_dunning_event_move_level_uniq;
        ALTER TABLE crm_dunning_event DROP CONSTRAINT IF EXISTS crm_dunning_event_installment_line_level_uniq;
        ALTER TABLE crm_dunning_event DROP CONSTRAINT IF EXISTS crm_dunning_event_document_set;
        ALTER TABLE crm_dunning_level DROP CONSTRAINT IF EXISTS crm_dunning_level_offset_uniq;
        ALTER TABLE crm_dunning_level ADD COLUMN IF NOT EXISTS channel varchar;
        UPDATE crm_dunning_level
           SET channel = CASE WHEN action = 'email_customer' THEN 'email' ELSE 'activity' END
         WHERE channel IS NULL;
        """
    )
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'crm_dunning_event' AND column_name = 'installment_line_id'"""
    )
    if cr.fetchone():
        cr.execute(
            """UPDATE crm_dunning_event SET res_model = 'crm.installment.line', res_id = installment_line_id
                WHERE res_model IS NULL AND installment_line_id IS NOT NULL"""
        )
