"""Site settings: one key at a time, or several in one query with their defaults."""

from sqlalchemy import event

from portal.core import settings


def test_get_settings_reads_several_keys_in_one_query_with_defaults_for_the_unset(session):
    settings.set_setting(session, "test.weeks", 10)
    settings.set_setting(session, "test.flag", False)
    session.flush()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", count)
    try:
        values = settings.get_settings(session, {"test.weeks": 12, "test.flag": True, "test.unset": "default"})
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", count)
    assert values == {"test.weeks": 10, "test.flag": False, "test.unset": "default"}
    assert len(statements) == 1
    assert settings.get_setting(session, "test.unset", 7) == 7
