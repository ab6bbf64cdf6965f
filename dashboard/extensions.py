"""Bare extension instances; create_app() binds them to the app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from dashboard.orm import Base
from dashboard.zoom.extension import ZoomExtension

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)  # batch: SQLite has no ALTER
login_manager = LoginManager()
csrf = CSRFProtect()
zoom = ZoomExtension()
