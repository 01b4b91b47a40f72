import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "crm_single_truth.group_crm_manager"
USER_GROUP = "crm_single_truth.group_crm_user"
# segments refreshed per cron call (each is one set-based statement per company)
REFRESH_BATCH = 20


class CrmSegment(models.Model):
    """A dynamic set of customers: conditions on customer facts (AND/OR) and/or a raw partner
    domain, evaluated by one set-based query per segment."""

    _name = "crm.segment"
    _description = "Customer Segment"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable technical name used by integrations and reports.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to evaluate the segment in every company."
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        domain="[('share', '=', False)]",
        help="Gets the transition activities of customers without a salesperson.",
    )
    rule_ids = fields.One2many("crm.segment.rule", "segment_id", string="Conditions", copy=True)
    rule_logic = fields.Selection(
        [("and", "All conditions (AND)"), ("or", "Any condition (OR)")], string="Combine", required=True, default="and"
    )
    domain = fields.Char(
        string="Partner Domain", default="[]", help="Extra partner filter, combined with the conditions by AND."
    )
    notify_on_enter = fields.Boolean(string="Notify on Enter")
    notify_on_leave = fields.Boolean(string="Notify on Leave")
    digest_user_ids = fields.Many2many(
        "res.users",
        "crm_segment_digest_user_rel",
        "segment_id",
        "user_id",
        string="Daily Digest To",
        domain="[('share', '=', False)]",
        help="These users get one email a day listing the transitions of the day before.",
    )
    membership_ids = fields.One2many("crm.segment.membership", "segment_id", string="Membership History")
    partner_count = fields.Integer(string="Members", compute="_compute_partner_count")
    preview_count = fields.Integer(
        string="Matching Now",
        compute="_compute_preview_count",
        help="Customers who match the conditions as edited, before saving.",
    )
    last_refresh = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [("code_uniq", "unique(code, company_id)", "A segment code must be unique per company.")]

    # ------------------------------------------------------------------ domain
    def _get_customer_domain(self):
        """Partners considered: active commercial entities (companies and private customers)."""
        return [("active", "=", True), ("parent_id", "=", False)]

    @api.model
    def _get_company_customer_domain(self, company):
        """The company's customers and those shared by all companies, as the stock partner rule has it."""
        return ["|", ("company_id", "=", False), ("company_id", "parent_of", company.ids)]

    def _get_segment_domain(self):
        """The full partner domain of the segment; raises ValidationError naming what is wrong."""
        self.ensure_one()
        leaves = [[rule._to_domain_leaf()] for rule in self.rule_ids]
        combine = expression.OR if self.rule_logic == "or" else expression.AND
        rules = combine(leaves) if leaves else []
        try:
            extra = safe_eval(self.domain or "[]")
        except Exception as error:
            raise ValidationError(
                _("The partner domain of segment %(name)s is not valid: %(error)s", name=self.name, error=error)
            ) from None
        if not isinstance(extra, (list, tuple)):
            raise ValidationError(_("The partner domain of segment %(name)s must be a list.", name=self.name))
        return expression.AND([self._get_customer_domain(), rules, list(extra)])

    def _check_domain_fields(self, domain):
        """Refuse unknown fields and fields the current user may not read, naming them."""
        Partner = self.env["res.partner"]
        for leaf in domain:
            if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
                continue
            fname = str(leaf[0]).split(".", 1)[0]
            field = Partner._fields.get(fname)
            if not field:
                raise ValidationError(
                    _("Segment %(name)s: the customer has no field %(field)s.", name=self.name, field=fname)
                )
            try:
                Partner.check_field_access_rights("read", [fname])
            except AccessError:
                raise ValidationError(
                    _("Segment %(name)s: you may not read the field %(field)s.", name=self.name, field=field.string)
                ) from None
        try:
            Partner._where_calc(domain)
        except (ValueError, TypeError) as error:
            raise ValidationError(_("Segment %(name)s: %(error)s", name=self.name, error=error)) from None

    @api.constrains("domain", "rule_ids", "rule_logic")
    def _check_segment(self):
        for segment in self:
            segment._check_domain_fields(segment._get_segment_domain())

    # ------------------------------------------------------------------ counts
    @api.depends_context("company", "uid")
    def _compute_partner_count(self):
        """Current members in the segment's company, else in the current one, that the user may see
        (the membership rules apply)."""
        groups = self.env["crm.segment.membership"]._read_group(
            [("segment_id", "in", self.ids), ("date_end", "=", False)], ["segment_id", "company_id"], ["__count"]
        )
        counts = {(segment.id, company.id): count for segment, company, count in groups}
        for segment in self:
            company = segment.company_id or self.env.company
            segment.partner_count = counts.get((segment.id, company.id), 0)

    @api.depends("rule_ids.field_name", "rule_ids.operator", "rule_ids.value", "rule_logic", "domain", "company_id")
    def _compute_preview_count(self):
        for segment in self:
            try:
                domain = segment._get_segment_domain()
                segment._check_domain_fields(domain)
            except ValidationError:
                segment.preview_count = 0
                continue
            company = segment.company_id or self.env.company
            domain = expression.AND([self._get_company_customer_domain(company), domain])
            segment.preview_count = self.env["res.partner"].with_company(company).search_count(domain)

    # ------------------------------------------------------------------ access
    @api.model
    def _check_manager(self):
        """Memberships are shared by everyone: only CRM managers (who see every customer of their
        companies) evaluate segments or act on all their members."""
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only a CRM manager can refresh segments or act on all their members."))

    # ------------------------------------------------------------------ evaluation
    def action_refresh(self):
        self._check_manager()
        snapshots = {}
        for segment in self:
            if not segment._lock():
                raise UserError(
                    _("Segment %(name)s is being refreshed right now; try again in a moment.", name=segment.name)
                )
            segment._refresh_members(snapshots=snapshots)
        self._drop_kpi_snapshots(snapshots)
        return True

    def _lock(self):
        """Serialise refreshes of one segment across workers: a transition is recorded once."""
        self.env.cr.execute(SQL("SELECT id FROM crm_segment WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", self.id))
        return bool(self.env.cr.fetchone())

    def _get_evaluation_companies(self):
        """Companies the segment is evaluated in: its own, else each company of the user it runs as
        (the companies selected in the web client, every company of the cron's user)."""
        self.ensure_one()
        companies = self.env.companies
        return self.company_id & companies if self.company_id else companies

    def _refresh_members(self, date_ref=None, snapshots=None):
        """Evaluate the segment in each of its companies (see _refresh_company); the transitions
        as ``[(kind, partner_id, company_id)]``. ``snapshots``: the KPI snapshots shared by the
        segments refreshed together (see _kpi_snapshot), else the call takes and drops its own."""
        self.ensure_one()
        self._check_manager()
        owned = snapshots is None
        snapshots = {} if owned else snapshots
        transitions = []
        for company in self._get_evaluation_companies():
            transitions += self._refresh_company(company, date_ref, snapshots)
        if owned:
            self._drop_kpi_snapshots(snapshots)
        self.last_refresh = fields.Datetime.now()
        return transitions

    @api.model
    def _kpi_snapshot(self, Partner, company, snapshots):
        """Name of a temporary table holding the KPI rows of the company's customers (as
        ``res.partner._crm_kpi_sql()`` gives them to ``Partner``'s user, on the company's date),
        computed once for all the segments refreshed together: each KPI condition of each segment
        reads it instead of computing every customer's KPIs again."""
        if company.id not in snapshots:
            table = SQL.identifier(f"crm_segment_kpi_{company.id}")
            self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", table))
            self.env.cr.execute(SQL("CREATE TEMPORARY TABLE %s ON COMMIT DROP AS %s", table, Partner._crm_kpi_sql()))
            snapshots[company.id] = f"crm_segment_kpi_{company.id}"
        return snapshots[company.id]

    @api.model
    def _drop_kpi_snapshots(self, snapshots):
        for table in snapshots.values():
            self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(table)))
        snapshots.clear()

    def _refresh_company(self, company, date_ref=None, snapshots=None):
        """Open the memberships of the company's newcomers and close those of the customers who no
        longer match, writing only these transitions; notify them.

        The matching customers are searched as the current user in this company alone, on its local
        date: the res.partner record rules and the dossier's visibility apply, no sudo. Entering and
        leaving customers are set differences (hashed whatever the planner's estimates: an anti-join
        planned as a nested loop is quadratic); the memberships to close are updated by a second
        statement from their literal ids."""
        segment = self.with_context(allowed_company_ids=[company.id], tz=company._crm_timezone())
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(segment)
        if snapshots is not None:
            snapshot = self._kpi_snapshot(segment.env["res.partner"], company, snapshots)
            segment = segment.with_context(crm_segment_kpi_snapshot=snapshot)
        Partner = segment.env["res.partner"].with_context(active_test=False)
        matching = Partner._search(
            expression.AND([self._get_company_customer_domain(company), segment._get_segment_domain()])
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            WITH matching AS MATERIALIZED (%(matching)s),
            current AS MATERIALIZED (
                SELECT partner_id FROM crm_segment_membership
                 WHERE segment_id = %(segment)s AND company_id = %(company)s AND date_end IS NULL
            ),
            entering AS (SELECT id FROM matching EXCEPT SELECT partner_id FROM current),
            opened AS (
                INSERT INTO crm_segment_membership
                       (segment_id, partner_id, company_id, date_start, create_uid, create_date, write_uid, write_date)
                SELECT %(segment)s, entering.id, %(company)s, %(today)s,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM entering
                ON CONFLICT (segment_id, partner_id, company_id) WHERE date_end IS NULL DO NOTHING
             RETURNING partner_id
            )
            SELECT 'enter', partner_id FROM opened
            UNION ALL
            SELECT 'leave', partner_id FROM (SELECT partner_id FROM current EXCEPT SELECT id FROM matching) leaving
            """,
                matching=matching.select(SQL.identifier(matching.table, "id")),
                today=today,
                uid=self.env.uid,
                segment=self.id,
                company=company.id,
            )
        )
        rows = self.env.cr.fetchall()
        transitions = [row for row in rows if row[0] == "enter"]
        leaving = [partner_id for kind, partner_id in rows if kind == "leave"]
        if leaving:
            self.env.cr.execute(
                SQL(
                    """
                UPDATE crm_segment_membership
                   SET date_end = %(today)s, write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE segment_id = %(segment)s AND company_id = %(company)s AND date_end IS NULL
                   AND partner_id = ANY(%(leaving)s)
             RETURNING 'leave', partner_id
                """,
                    today=today,
                    uid=self.env.uid,
                    segment=self.id,
                    company=company.id,
                    leaving=leaving,
                )
            )
            transitions += self.env.cr.fetchall()
        self.env["crm.segment.membership"].invalidate_model()
        self.invalidate_recordset(["partner_count", "membership_ids"])
        self.env["res.partner"].invalidate_model(["crm_segment_ids"])
        segment._notify_transitions(transitions)
        return [(kind, partner_id, company.id) for kind, partner_id in transitions]

    def _notify_transitions(self, transitions):
        """One activity for the salesperson of each customer that entered or left the segment."""
        self.ensure_one()
        wanted = [
            (kind, pid)
            for kind, pid in transitions
            if (kind == "enter" and self.notify_on_enter) or (kind == "leave" and self.notify_on_leave)
        ]
        if not wanted:
            return
        partners = self.env["res.partner"].browse([pid for _kind, pid in wanted]).sudo()
        model_id = self.env["ir.model"]._get_id("res.partner")
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        today = fields.Date.context_today(self)
        vals_list = []
        for (kind, _pid), partner in zip(wanted, partners, strict=False):
            summary = (
                _("%(partner)s entered the segment %(segment)s", partner=partner.name, segment=self.name)
                if kind == "enter"
                else _("%(partner)s left the segment %(segment)s", partner=partner.name, segment=self.name)
            )
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "user_id": (partner.user_id or self.user_id or self.env.user).id,
                    "date_deadline": today,
                }
            )
        self.env["mail.activity"].sudo().create(vals_list)

    @api.model
    def _get_due_domain(self):
        """Segments still to refresh in this run. While the scheduler runs the cron, those refreshed
        before its scheduled time (``nextcall`` stays unchanged until the run is complete); called
        directly, every segment."""
        cron_id = self.env.context.get("cron_id")
        cron = self.env["ir.cron"].sudo().browse(cron_id).exists() if cron_id else None
        if not cron:
            return []
        return ["|", ("last_refresh", "=", False), ("last_refresh", "<", cron.nextcall)]

    @api.model
    def _cron_refresh_segments(self, date_ref=None, batch_size=REFRESH_BATCH):
        """Refresh the segments not refreshed yet in this run, least recently refreshed first, at
        most ``batch_size`` per call; the scheduler calls again while some remain. Each segment is
        evaluated in its companies on their local dates (``date_ref`` overrides the date)."""
        due = self.search(self._get_due_domain(), order="last_refresh ASC NULLS FIRST, id")
        batch = due[:batch_size]
        snapshots = {}
        for segment in batch:
            if segment._lock():  # else another worker refreshes it now
                segment._refresh_members(date_ref, snapshots)
        self._drop_kpi_snapshots(snapshots)
        remaining = len(due) - len(batch)
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return remaining

    @api.model
    def _cron_send_digest(self, date_ref=None):
        """One email per subscribed user with the transitions of the day before ``date_ref`` that the
        user may see (companies, own customers); a day is sent once (the last sent day is remembered)."""
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        day = today - timedelta(days=1)
        icp = self.env["ir.config_parameter"].sudo()
        last = icp.get_param("crm_segments.digest_last_date")
        if last and fields.Date.to_date(last) >= day:
            return 0
        segments = self.sudo().search([("digest_user_ids", "!=", False)])
        segments_by_user = defaultdict(list)
        for segment in segments:
            for user in segment.digest_user_ids:
                segments_by_user[user].append(segment.id)
        mails = []
        for user, segment_ids in segments_by_user.items():
            Membership = self.env["crm.segment.membership"].with_user(user)
            if not Membership.has_access("read"):
                continue
            memberships = Membership.search(
                [
                    ("segment_id", "in", segment_ids),
                    "|",
                    ("date_start", "=", day),
                    ("date_end", "=", day),
                ]
            ).sudo()
            if not memberships:
                continue
            rows = Markup("").join(
                Markup("<li>%s</li>")
                % (
                    _("%(partner)s entered %(segment)s", partner=m.partner_id.name, segment=m.segment_id.name)
                    if m.date_start == day
                    else _("%(partner)s left %(segment)s", partner=m.partner_id.name, segment=m.segment_id.name)
                )
                for m in memberships
            )
            mails.append(
                {
                    "subject": _("Segment transitions of %(day)s", day=day),
                    "body_html": Markup("<ul>%s</ul>") % rows,
                    "email_to": user.email_formatted,
                    "recipient_ids": [(4, user.partner_id.id)],
                    "auto_delete": True,
                }
            )
        self.env["mail.mail"].sudo().create(mails)
        icp.set_param("crm_segments.digest_last_date", fields.Date.to_string(day))
        return len(mails)

    # ------------------------------------------------------------------ actions
    def action_assign_salesperson(self):
        self.ensure_one()
        self._check_manager()
        return self.env["crm.segment.members.wizard"]._action_for(self, "assign")

    def action_schedule_call(self):
        self.ensure_one()
        self._check_manager()
        return self.env["crm.segment.members.wizard"]._action_for(self, "call")

    def action_open_members(self):
        self.ensure_one()
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(_("Only CRM users can open the members of a segment."))
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Members of %(segment)s", segment=self.name),
            "res_model": "res.partner",
            "view_mode": "list,kanban,form",
            "domain": [("crm_segment_ids", "in", self.ids)],
            "context": {"create": False},
        }
