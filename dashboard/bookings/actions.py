"""An operator's fixes for one booking: retry, reschedule, cancel, re-sync.

Each answers htmx with the booking's row as it now stands plus an out-of-band flash, and a
plain form post with a redirect (or the booking's page with the form's errors).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.auth.redirects import safe_next
from dashboard.bookings.blueprint import bp
from dashboard.bookings.forms import RescheduleForm
from dashboard.bookings.rendering import (
    ROW,
    booking_or_404,
    render_detail,
    reschedule_form,
    row_context,
)
from dashboard.htmx import FLASHES, fragment, is_htmx, redirect_to
from dashboard.models import Booking, BookingState, Permission
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bookings, drift_fixes
from dashboard.services.audit import Actor
from dashboard.services.booking_input import InvalidInput, is_timezone, local_time, parse_changes


def _row(booking: Booking, status: int = 200, **extra: object) -> Response:
    """The row, and the flashed messages as toasts pinned to the viewport."""
    body = render_template(ROW, **row_context(booking, **extra)) + render_template(
        FLASHES, oob=True, toast=True)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _answer(booking: Booking, status: int = 200) -> Response:
    """The row for htmx aimed at it; otherwise back to where the form was (the booking's
    page by default): a redirect, which htmx aimed elsewhere gets as HX-Redirect."""
    target = request.headers.get("HX-Target")
    if is_htmx() and target in (None, f"booking-{booking.id}"):
        return _row(booking, status)
    return redirect_to(safe_next(request.form.get("next"),
                                 url_for("bookings.detail", booking_id=booking.id)))


def _act(booking_id: int, action: Callable[[Booking], str]) -> Response:
    booking = booking_or_404(booking_id)
    try:
        message = action(booking)
    except ServiceError as error:  # Conflict: the row as it is, and why nothing happened
        booking = booking_or_404(booking_id)
        flash(error.message, "error")
        return _answer(booking, error.status)
    flash(message, "success")
    return _answer(booking)


def _actor() -> Actor:
    return Actor.of_user(current_user)


@bp.route("/<int:booking_id>/retry", methods=["POST"])
@requires(Permission.OPERATE)
def retry(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        bookings.retry(current_workspace(), _actor(), booking)
        return f"Trying again: Zoom work for “{booking.title}” is on its way."

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/resync", methods=["POST"])
@requires(Permission.OPERATE)
def resync(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        op = bookings.resync(current_workspace(), _actor(), booking)
        if op is None:
            return (f"Zoom work for “{booking.title}” is already on its way; it sends the "
                    "booking's latest details.")
        return f"Re-sync requested: Lakesis reads “{booking.title}” back from Zoom."

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/cancel", methods=["GET"])
@requires(Permission.OPERATE)
def confirm_cancel(booking_id: int) -> Response:
    """Without JavaScript, Cancel asks here first (with it, a dialog asks)."""
    booking = booking_or_404(booking_id)
    offer = bookings.actions(booking).cancel
    body = render_template("pages/booking_cancel.html", booking=booking, offer=offer,
                           back=safe_next(request.args.get("next"),
                                          url_for("bookings.detail", booking_id=booking.id)))
    return make_response(body, 200 if offer.allowed else 409)


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
@requires(Permission.OPERATE)
def cancel(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        if booking.state == BookingState.CANCELLED:
            return f"“{booking.title}” was already cancelled."
        bookings.cancel(current_workspace(), _actor(), booking)
        return f"“{booking.title}” cancelled; its Zoom meeting is being deleted."

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/keep-zoom", methods=["POST"])
@requires(Permission.OPERATE)
def keep_zoom(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        drift_fixes.keep_zoom(current_workspace(), _actor(), booking)
        return f"“{booking.title}” now has Zoom's values; nothing was sent to Zoom."

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/restore", methods=["POST"])
@requires(Permission.OPERATE)
def restore(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        drift_fixes.restore(current_workspace(), _actor(), booking)
        return f"Restoring “{booking.title}”: its values are on their way back to Zoom."

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/recreate", methods=["POST"])
@requires(Permission.OPERATE)
def recreate(booking_id: int) -> Response:
    def run(booking: Booking) -> str:
        drift_fixes.recreate(current_workspace(), _actor(), booking)
        return (f"A new Zoom meeting for “{booking.title}” is on its way; its join link "
                "will be new.")

    return _act(booking_id, run)


@bp.route("/<int:booking_id>/reschedule", methods=["GET"])
@requires(Permission.OPERATE)
def edit(booking_id: int) -> Response:
    """The row with the reschedule form under it (htmx); the booking's page otherwise."""
    booking = booking_or_404(booking_id)
    if not is_htmx():
        return redirect(url_for("bookings.detail", booking_id=booking.id) + "#reschedule")
    return fragment(ROW, **row_context(booking, reschedule=reschedule_form(booking)))


@bp.route("/<int:booking_id>/reschedule", methods=["POST"])
@requires(Permission.OPERATE)
def reschedule(booking_id: int) -> Response:
    booking = booking_or_404(booking_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        try:
            changes = parse_changes(_payload(form), utcnow())
            bookings.reschedule(current_workspace(), _actor(), booking, changes)
        except InvalidInput as error:
            form.errors_from_service(error.errors)
        except ServiceError as error:  # nothing of it is left in the session
            flash(error.message, "error")
            return _answer(booking_or_404(booking_id), error.status)
        else:
            start = local_time(booking.start_at, booking.timezone)
            flash(f"“{booking.title}” now starts {start:%a %d %b %Y %H:%M} ({booking.timezone}) "
                  f"for {booking.duration_minutes} min; Zoom is being updated.", "success")
            return _answer(booking)
    if is_htmx():
        return _row(booking, 422, reschedule=form)
    return render_detail(booking, form, 422)


def _payload(form: RescheduleForm) -> dict[str, object]:
    """The form as a change request: the local date and time in the chosen zone, with its
    UTC offset. With an unknown zone there is no offset to give: only the zone is sent, and
    ``parse_changes`` names it."""
    zone = form.timezone.data.strip()
    payload: dict[str, object] = {"duration_minutes": form.duration_minutes.data,
                                  "timezone": zone}
    if is_timezone(zone):
        start = datetime.combine(form.date.data, form.time.data.replace(second=0),
                                 ZoneInfo(zone))
        payload["start_time"] = start.isoformat()
    return payload
