"""Failed sign-in counters, in the database so every process and host shares them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db


class LoginFailure(db.Model):
    __tablename__ = "login_failures"

    # "account:<email>" or "address:<ip>"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
