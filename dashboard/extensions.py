"""Bare extension instances; create_app() binds them to the app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from dashboard.orm import Base
from dashboard.zoom.extension import ZoomExtension


def schema_of_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """What Alembic compares with the models: not the bookings search's own schema, one
    per database (``models.booking_search``, migrations 0014 and 0018): SQLite's FTS table
    with its shadow tables, PostgreSQL's trigram index."""
    if name is None:
        return True
    if type_ == "table":
        return not (name == "booking_search" or name.startswith("booking_search_"))
    return not (type_ == "index" and name.startswith("ix_bookings_") and name.endswith("_trgm"))


db = SQLAlchemy(model_class=Base)
# batch: SQLite has no ALTER
migrate = Migrate(compare_type=True, render_as_batch=True, include_name=schema_of_models)
login_manager = LoginManager()
csrf = CSRFProtect()
zoom = ZoomExtension()
