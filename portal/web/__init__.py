"""The shared web edge: sign-in, home pages, admin pages, error pages, security headers, templates."""

from flask import Flask

from portal.allocation import web as allocation_web
from portal.cases import web as cases_web
from portal.expenses import web as expenses_web
from portal.supervision import web as supervision_web
from portal.training import web as training_web
from portal.volunteers import web as volunteers_web
from portal.web import account, admin, auth, dev, errors, home, input, security, templating


def register(app: Flask) -> None:
    """Register the shared blueprints, error pages, template helpers and request hooks."""
    input.init_app(app)  # before any blueprint: its `<int:…>` rules take the bounded converter
    templating.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(cases_web.bp)
    app.register_blueprint(volunteers_web.bp)
    app.register_blueprint(training_web.bp)
    app.register_blueprint(supervision_web.bp)
    app.register_blueprint(expenses_web.bp)
    app.register_blueprint(allocation_web.bp)
    if app.config.get("DEVELOPMENT"):
        app.register_blueprint(dev.bp)
