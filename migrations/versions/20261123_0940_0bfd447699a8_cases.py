"""cases: referrals, parties, contact, consent, risk, notes, sessions, agreements, feedback, allocations

Boolean server defaults are sa.false() (autogenerate writes text('0'), which PostgreSQL refuses for a
boolean column).

Revision ID: 0bfd447699a8
Revises: 45bce20811d2
Create Date: 2026-11-23 09:40:00.060225

"""
from alembic import op
import sqlalchemy as sa

import portal.core.db


# revision identifiers, used by Alembic.
revision = '0bfd447699a8'
down_revision = '45bce20811d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_reference_counters'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('referral_received', 'triage', 'contacting', 'assessment', 'awaiting_allocation', 'allocated', 'preparation', 'intervention', 'monitoring', 'follow_up', 'on_hold', 'closed', name='casestatus', native_enum=False, length=40), nullable=False),
    sa.Column('status_before_hold', sa.Enum('referral_received', 'triage', 'contacting', 'assessment', 'awaiting_allocation', 'allocated', 'preparation', 'intervention', 'monitoring', 'follow_up', 'on_hold', 'closed', name='casestatus', native_enum=False, length=40), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('hold_review_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Enum('police', 'probation', 'court', 'youth_justice', 'housing', 'victim_services', 'self_referral', 'other', name='referralsource', native_enum=False, length=40), nullable=False),
    sa.Column('referrer_organisation', sa.String(length=200), nullable=True),
    sa.Column('referrer_name', sa.String(length=200), nullable=True),
    sa.Column('referrer_email', sa.String(length=254), nullable=True),
    sa.Column('referrer_phone', sa.String(length=40), nullable=True),
    sa.Column('crime_reference', sa.String(length=60), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('incident_on', sa.Date(), nullable=True),
    sa.Column('offence_category', sa.Enum('violence', 'sexual_offence', 'robbery', 'burglary', 'theft', 'criminal_damage', 'public_order', 'harassment', 'fraud', 'road_traffic', 'anti_social_behaviour', 'neighbour_dispute', 'other', name='offencecategory', native_enum=False, length=40), nullable=False),
    sa.Column('justice_stage', sa.Enum('pre_charge', 'out_of_court_disposal', 'pre_sentence', 'community_sentence', 'custody', 'post_release', 'not_reported', 'non_crime', name='justicestage', native_enum=False, length=40), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('victim_has_enhanced_rights', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_sensitive', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('intervention_type', sa.Enum('face_to_face_conference', 'shuttle', 'letter', 'direct_reparation', 'indirect_reparation', 'community_panel', 'referral_order_panel', name='interventiontype', native_enum=False, length=40), nullable=True),
    sa.Column('first_contact_due_on', sa.Date(), nullable=False),
    sa.Column('first_contact_on', sa.Date(), nullable=True),
    sa.Column('closure_reason', sa.Enum('completed_direct', 'completed_indirect', 'completed_partial', 'declined_harmed', 'declined_responsible', 'withdrawn_harmed', 'withdrawn_responsible', 'unsuitable_risk', 'unsuitable_no_responsibility', 'unsuitable_sensitive_complex', 'ineligible', 'no_contact', 'other_party_not_identified', 'agreement_not_fulfilled', 'signposted_elsewhere', name='closurereason', native_enum=False, length=40), nullable=True),
    sa.Column('closure_notes', sa.Text(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'closed' AND closure_reason IS NOT NULL AND closed_on IS NOT NULL) OR (status <> 'closed' AND closure_reason IS NULL AND closed_on IS NULL)", name=op.f('ck_cases_closure_reason_when_closed')),
    sa.CheckConstraint("(status = 'on_hold' AND status_before_hold IS NOT NULL AND status_before_hold NOT IN ('on_hold', 'closed')) OR (status <> 'on_hold' AND status_before_hold IS NULL)", name=op.f('ck_cases_hold_remembers_status')),
    sa.CheckConstraint('first_contact_due_on >= received_on', name=op.f('ck_cases_first_contact_due_after_received')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_closed_on'), ['closed_on'], unique=False)
        batch_op.create_index('ix_cases_district_received_on', ['district', 'received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_first_contact_due_on'), ['first_contact_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_received_on'), ['received_on'], unique=False)
        batch_op.create_index('ix_cases_referrer_received_on', ['referrer_organisation', 'received_on'], unique=False)
        batch_op.create_index('ix_cases_source_received_on', ['source', 'received_on'], unique=False)
        batch_op.create_index('ix_cases_status_received_on', ['status', 'received_on'], unique=False)

    op.create_table('case_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'co_facilitator', name='allocationrole', native_enum=False, length=40), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('ended_reason', sa.String(length=300), nullable=True),
    sa.Column('allocated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_case_allocations_ends_after_start')),
    sa.ForeignKeyConstraint(['allocated_by_id'], ['users.id'], name=op.f('fk_case_allocations_allocated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_allocations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_allocations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_allocations'))
    )
    with op.batch_alter_table('case_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_allocations_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_allocations_user_id_ends_on', ['user_id', 'ends_on'], unique=False)
        batch_op.create_index('uq_case_allocations_current_lead', ['case_id'], unique=True, sqlite_where=sa.text("ends_on IS NULL AND role = 'lead'"), postgresql_where=sa.text("ends_on IS NULL AND role = 'lead'"))
        batch_op.create_index('uq_case_allocations_current_person', ['case_id', 'user_id'], unique=True, sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))

    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.Enum('general', 'restricted', 'coordinator_only', name='notevisibility', native_enum=False, length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('written_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index('ix_case_notes_case_id_written_at', ['case_id', 'written_at'], unique=False)

    op.create_table('case_sensitive_kinds',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('domestic_abuse', 'sexual_offence', 'hate_crime', 'serious_violence', name='sensitivekind', native_enum=False, length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_sensitive_kinds_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'kind', name=op.f('pk_case_sensitive_kinds'))
    )
    op.create_table('case_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('session_type', sa.Enum('preparation_meeting', 'conference', 'shuttle_exchange', 'letter', 'panel', name='sessiontype', native_enum=False, length=40), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 1440', name=op.f('ck_case_sessions_duration_in_a_day')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_sessions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_sessions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_sessions'))
    )
    with op.batch_alter_table('case_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_case_sessions_case_id_held_on', ['case_id', 'held_on'], unique=False)

    op.create_table('case_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('referral_received', 'triage', 'contacting', 'assessment', 'awaiting_allocation', 'allocated', 'preparation', 'intervention', 'monitoring', 'follow_up', 'on_hold', 'closed', name='casestatus', native_enum=False, length=40), nullable=True),
    sa.Column('to_status', sa.Enum('referral_received', 'triage', 'contacting', 'assessment', 'awaiting_allocation', 'allocated', 'preparation', 'intervention', 'monitoring', 'follow_up', 'on_hold', 'closed', name='casestatus', native_enum=False, length=40), nullable=False),
    sa.Column('changed_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_status_changes_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_case_status_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_changes'))
    )
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_case_status_changes_case_id_changed_at', ['case_id', 'changed_at'], unique=False)
        batch_op.create_index('ix_case_status_changes_to_status_changed_at', ['to_status', 'changed_at'], unique=False)

    op.create_table('outcome_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_outcome_agreements_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outcome_agreements_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_agreements')),
    sa.UniqueConstraint('case_id', name=op.f('uq_outcome_agreements_case_id'))
    )
    with op.batch_alter_table('outcome_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_agreements_agreed_on'), ['agreed_on'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('harmed_person', 'person_responsible', 'supporter', 'parent_or_guardian', name='partyrole', native_enum=False, length=40), nullable=False),
    sa.Column('supports_party_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('safe_contact_notes', sa.Text(), nullable=True),
    sa.Column('interpreter_language', sa.String(length=100), nullable=True),
    sa.Column('access_needs', sa.Text(), nullable=True),
    sa.Column('is_under_18', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('home_visit_approved', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supports_party_id'], ['parties.id'], name=op.f('fk_parties_supports_party_id_parties'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_case_id'), ['case_id'], unique=False)

    op.create_table('risk_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('initial', 'pre_intervention', 'review', name='riskstage', native_enum=False, length=40), nullable=False),
    sa.Column('factors', sa.Text(), nullable=False),
    sa.Column('rating', sa.Enum('low', 'medium', 'high', name='riskrating', native_enum=False, length=40), nullable=False),
    sa.Column('mitigations', sa.Text(), nullable=True),
    sa.Column('police_intelligence', sa.Text(), nullable=True),
    sa.Column('proceed', sa.Boolean(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_risk_assessments_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['users.id'], name=op.f('fk_risk_assessments_assessed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_risk_assessments_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments'))
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_risk_assessments_case_id_stage', ['case_id', 'stage'], unique=False)

    op.create_table('agreement_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('owner_party_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'not_done', name='actionstatus', native_enum=False, length=40), nullable=False),
    sa.Column('status_changed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['outcome_agreements.id'], name=op.f('fk_agreement_actions_agreement_id_outcome_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_party_id'], ['parties.id'], name=op.f('fk_agreement_actions_owner_party_id_parties'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_actions'))
    )
    with op.batch_alter_table('agreement_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_actions_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('case_allocation_parties',
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['allocation_id'], ['case_allocations.id'], name=op.f('fk_case_allocation_parties_allocation_id_case_allocations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_case_allocation_parties_party_id_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('allocation_id', 'party_id', name=op.f('pk_case_allocation_parties'))
    )
    with op.batch_alter_table('case_allocation_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_allocation_parties_party_id'), ['party_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('contact', 'participation', 'information_sharing', 'supporter_attendance', 'feedback_follow_up', name='consentpurpose', native_enum=False, length=40), nullable=False),
    sa.Column('intervention_type', sa.Enum('face_to_face_conference', 'shuttle', 'letter', 'direct_reparation', 'indirect_reparation', 'community_panel', 'referral_order_panel', name='interventiontype', native_enum=False, length=40), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('method', sa.Enum('written', 'e_signature', 'verbal', name='consentmethod', native_enum=False, length=40), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("intervention_type IS NULL OR purpose = 'participation'", name=op.f('ck_consents_type_only_for_participation')),
    sa.CheckConstraint('withdrawn_on IS NULL OR withdrawn_on >= given_on', name=op.f('ck_consents_withdrawn_after_given')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_consents_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_consents_party_id_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_party_id'), ['party_id'], unique=False)

    op.create_table('contact_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.Enum('phone', 'text_message', 'email', 'letter', 'in_person', 'video_call', name='contactmethod', native_enum=False, length=40), nullable=False),
    sa.Column('outcome', sa.Enum('contact_made', 'message_left', 'no_answer', 'wrong_details', 'returned_undelivered', name='contactoutcome', native_enum=False, length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_contact_attempts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_contact_attempts_party_id_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_contact_attempts_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempts'))
    )
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_contact_attempts_case_id_attempted_at', ['case_id', 'attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_attempts_party_id'), ['party_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('felt_safe', sa.Boolean(), nullable=True),
    sa.Column('felt_prepared', sa.Boolean(), nullable=True),
    sa.Column('would_recommend', sa.Boolean(), nullable=True),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_feedback_satisfaction_1_to_5')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_feedback_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_feedback_party_id_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_feedback_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('party_id', name=op.f('uq_feedback_party_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_feedback_given_on', ['given_on'], unique=False)



def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_given_on')
        batch_op.drop_index(batch_op.f('ix_feedback_case_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_attempts_party_id'))
        batch_op.drop_index('ix_contact_attempts_case_id_attempted_at')

    op.drop_table('contact_attempts')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_party_id'))
        batch_op.drop_index(batch_op.f('ix_consents_case_id'))

    op.drop_table('consents')
    with op.batch_alter_table('case_allocation_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_allocation_parties_party_id'))

    op.drop_table('case_allocation_parties')
    with op.batch_alter_table('agreement_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_actions_agreement_id'))

    op.drop_table('agreement_actions')
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_assessments_case_id_stage')

    op.drop_table('risk_assessments')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_case_id'))

    op.drop_table('parties')
    with op.batch_alter_table('outcome_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_agreements_agreed_on'))

    op.drop_table('outcome_agreements')
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_case_status_changes_to_status_changed_at')
        batch_op.drop_index('ix_case_status_changes_case_id_changed_at')

    op.drop_table('case_status_changes')
    with op.batch_alter_table('case_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_case_sessions_case_id_held_on')

    op.drop_table('case_sessions')
    op.drop_table('case_sensitive_kinds')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_case_notes_case_id_written_at')

    op.drop_table('case_notes')
    with op.batch_alter_table('case_allocations', schema=None) as batch_op:
        batch_op.drop_index('uq_case_allocations_current_person', sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))
        batch_op.drop_index('uq_case_allocations_current_lead', sqlite_where=sa.text("ends_on IS NULL AND role = 'lead'"), postgresql_where=sa.text("ends_on IS NULL AND role = 'lead'"))
        batch_op.drop_index('ix_case_allocations_user_id_ends_on')
        batch_op.drop_index(batch_op.f('ix_case_allocations_case_id'))

    op.drop_table('case_allocations')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_received_on')
        batch_op.drop_index('ix_cases_source_received_on')
        batch_op.drop_index('ix_cases_referrer_received_on')
        batch_op.drop_index(batch_op.f('ix_cases_received_on'))
        batch_op.drop_index(batch_op.f('ix_cases_first_contact_due_on'))
        batch_op.drop_index('ix_cases_district_received_on')
        batch_op.drop_index(batch_op.f('ix_cases_closed_on'))

    op.drop_table('cases')
    op.drop_table('case_reference_counters')
