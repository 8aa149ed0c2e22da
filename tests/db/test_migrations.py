"""The schema comes from Alembic alone: it matches the models, holds the seed schema, and migrates both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.dialects.postgresql import ARRAY

from db.models import Base
from tests.conftest import run_alembic

# The seed plan's schema (shared/seed, Phase 1.1): every table and column, and its indexes by name.
SEED_COLUMNS = {
    "projects": "id name description type status repository_url repository_branch jira_project_key jira_enabled "
    "confluence_space_key confluence_enabled created_by created_at updated_at metadata",
    "workflows": "workflow_id project_id name description workflow_type status priority requirement assigned_agents "
    "steps artifacts metrics errors tags created_by started_at completed_at created_at updated_at",
    "agents": "agent_id name role status description model temperature max_tokens system_prompt capabilities "
    "project_id current_task created_at updated_at last_active metadata",
    "agent_messages": "message_id workflow_id agent_id agent_name agent_role message_type content addressed_to "
    "addressed_to_names parent_message_id requires_response urgency attachments is_edited edited_at created_at",
    "decisions": "decision_id workflow_id problem description variants chosen_variant_id votes justification "
    "responsible_agents discussion_thread_id created_at",
    "users": "user_id username email full_name role is_active created_at last_login",
}
SEED_INDEXES = {
    "idx_workflows_project": ("workflows", ["project_id"]),
    "idx_workflows_status": ("workflows", ["status"]),
    "idx_agents_role": ("agents", ["role"]),
    "idx_agents_project": ("agents", ["project_id"]),
    "idx_messages_workflow": ("agent_messages", ["workflow_id"]),
    "idx_messages_parent": ("agent_messages", ["parent_message_id"]),
}
ADDED_COLUMNS = {
    "workflow_events": "id workflow_id event_type data created_at",
    "artifacts": "id workflow_id step path object_key size_bytes sha256 content_type created_by_agent_id created_at",
    "integration_links": "id workflow_id system kind ref step decision_id external_key url created_at updated_at",
    "agent_messages": "prompt_tokens completion_tokens latency_ms",
    "workflows": "options temporal_run_id",
}


def _insert_project(conn):
    return conn.execute(
        text(
            "INSERT INTO projects (name, type, status, created_by) VALUES ('p', 'library', 'active', 't') RETURNING id"
        )
    ).scalar()


def _columns(inspector, table):
    return {c["name"]: c for c in inspector.get_columns(table)}


def test_migrated_database_holds_every_seed_table_column_and_index(engine):
    inspector = inspect(engine)
    for table, names in SEED_COLUMNS.items():
        assert set(names.split()) <= set(_columns(inspector, table)), table
    for name, (table, columns) in SEED_INDEXES.items():
        found = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes(table)}
        assert found.get(name) == columns, name


def test_migrated_database_has_the_added_tables_and_usage_columns(engine):
    inspector = inspect(engine)
    for table, names in ADDED_COLUMNS.items():
        assert set(names.split()) <= set(_columns(inspector, table)), table


def test_column_types_follow_the_design(engine):
    inspector = inspect(engine)
    projects, agents, workflows = (_columns(inspector, t) for t in ("projects", "agents", "workflows"))
    assert str(projects["id"]["type"]) == "UUID"
    assert str(projects["metadata"]["type"]) == "JSONB"
    assert str(projects["created_at"]["type"]) == "TIMESTAMP"
    assert projects["created_at"]["type"].timezone is True
    assert isinstance(workflows["tags"]["type"], ARRAY) and str(workflows["tags"]["type"].item_type) == "TEXT"
    assert str(agents["temperature"]["type"]) == "NUMERIC(3, 2)"
    assert projects["name"]["nullable"] is False and projects["description"]["nullable"] is True


def test_models_and_migrations_do_not_differ(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(fresh_database):
    url = fresh_database()
    engine = create_engine(url)
    try:
        run_alembic(url, "upgrade", "head")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO projects (name, type, status, created_by) VALUES ('p', 'library', 'active', 't')")
            )
        run_alembic(url, "downgrade", "base")
        left = set(inspect(engine).get_table_names())
        assert left == {"alembic_version"}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'set_updated_at'")).scalar() == 0
        run_alembic(url, "upgrade", "head")
        assert set(SEED_COLUMNS) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_updated_at_is_kept_by_the_database_for_any_writer(db):
    with db.begin() as conn:
        pid = _insert_project(conn)
    with db.begin() as conn:  # a later transaction: now() moves on
        conn.execute(text("UPDATE projects SET description = 'changed' WHERE id = :id"), {"id": pid})
        created, updated = conn.execute(
            text("SELECT created_at, updated_at FROM projects WHERE id = :id"), {"id": pid}
        ).one()
    assert updated > created


def test_deleting_a_project_cascades_to_its_workflows_and_unassigns_its_agents(db):
    with db.begin() as conn:
        pid = _insert_project(conn)
        conn.execute(
            text(
                "INSERT INTO workflows (project_id, name, workflow_type, status, priority, requirement, created_by) "
                "VALUES (:p, 'w', 'bug_fix', 'pending', 'low', 'r', 't')"
            ),
            {"p": pid},
        )
        conn.execute(
            text("INSERT INTO agents (name, role, status, model, project_id) VALUES ('a', 'tester', 'idle', 'm', :p)"),
            {"p": pid},
        )
        conn.execute(text("DELETE FROM projects WHERE id = :p"), {"p": pid})
        assert conn.execute(text("SELECT count(*) FROM workflows")).scalar() == 0
        assert conn.execute(text("SELECT project_id FROM agents")).one() == (None,)
