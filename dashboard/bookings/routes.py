"""The bookings table (filters, pages, live status) and one booking's page."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dashboard.access import current_membership, current_workspace, requires
from dashboard.bookings import bp, history
from dashboard.bookings.forms import BookingFilterForm, RescheduleForm
from dashboard.bookings.live import in_flight_ids
from dashboard.htmx import is_htmx, partial
from dashboard.models import Booking, Permission
from dashboard.orm import utcnow
from dashboard.services import NotFound, ServiceError, bookings
from dashboard.services.booking_input import local_time

PAGE_SIZE = 50


def booking_or_404(booking_id: int) -> Booking:
    try:
        return bookings.get(current_workspace(), booking_id)
    except NotFound:
        abort(404)


def row_context(booking: Booking, **extra: object) -> dict[str, object]:
    """What ``partials/booking_row.html`` needs for one booking."""
    workspace = current_workspace()
    return {"booking": booking, "zone": workspace.timezone,
            "live": booking.id in in_flight_ids([booking]),
            "may_operate": current_membership().can(Permission.OPERATE), **extra}


def reschedule_form(booking: Booking) -> RescheduleForm:
    """The form filled with the booking as it stands, on the booking's own clock."""
    start = local_time(booking.start_at, booking.timezone)
    return RescheduleForm(formdata=None, date=start.date(), time=start.time(),
                          duration_minutes=booking.duration_minutes, timezone=booking.timezone)


@bp.route("")
@requires(Permission.VIEW)
def index() -> Response:
    workspace = current_workspace()
    query = request.args.copy()
    if "since" not in query:
        # What is coming is what operators work on, and it keeps the status filter on the
        # near end of the start-time index; clearing From shows every date.
        query["since"] = local_time(utcnow(), workspace.timezone).date().isoformat()
    form = BookingFilterForm(query)
    valid = form.validate()
    if valid:
        since, until = form.window(workspace.timezone)
        filters = bookings.BookingFilters(status=form.status.data or None, since=since,
                                          until=until, search=(form.q.data or "").strip() or None)
        try:
            page = bookings.list_bookings(workspace, filters, request.args.get("cursor"),
                                          PAGE_SIZE)
        except ServiceError as error:  # a cursor someone edited: the first page instead
            form.form_errors.append(error.message)
            valid = False
            page = bookings.list_bookings(workspace, filters, None, PAGE_SIZE)
    else:  # listing everything under a filter that was not understood would mislead
        page = bookings.BookingPage([], None)
    args = {k: v for k, v in query.items() if k in form._fields and (v or k == "since")}
    context = {"form": form, "page": page, "filter_args": args, "zone": workspace.timezone,
               "valid": valid, "paged": bool(request.args.get("cursor")),
               "live_ids": in_flight_ids(page.bookings),
               "may_operate": current_membership().can(Permission.OPERATE)}
    status = 200 if valid else 422
    if is_htmx():
        # The table, plus the filter form out of band so its messages sit beside the fields.
        response = partial("partials/booking_table.html", status=status, **context)
        response.set_data(response.get_data(as_text=True) + render_template(
            "partials/booking_filters.html", oob=True, **context))
    else:
        response = make_response(render_template("pages/bookings.html", **context), status)
    response.vary.add("HX-Request")
    return response


@bp.route("/<int:booking_id>/row")
@requires(Permission.VIEW)
def row(booking_id: int) -> Response:
    """One row as it stands now: what a polling row asks for, and "Cancel" of an edit."""
    booking = booking_or_404(booking_id)
    if not is_htmx():
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    # Without the out-of-band flashes: a poll every 2 s must not wipe the message an
    # action just showed (a message still to show waits for the next page).
    response = make_response(render_template("partials/booking_row.html",
                                             **row_context(booking)))
    response.vary.add("HX-Request")
    return response


@bp.route("/<int:booking_id>")
@requires(Permission.VIEW)
def detail(booking_id: int) -> Response:
    booking = booking_or_404(booking_id)
    return render_detail(booking, reschedule_form(booking))


def render_detail(booking: Booking, form: RescheduleForm, status: int = 200) -> Response:
    workspace = current_workspace()
    body = render_template(
        "pages/booking_detail.html", booking=booking, meeting=booking.meeting,
        zone=workspace.timezone, timeline=history.timeline(booking), form=form,
        live=booking.id in in_flight_ids([booking]),
        may_operate=current_membership().can(Permission.OPERATE))
    return make_response(body, status)


from dashboard.bookings import actions  # noqa: E402,F401  (registers the row actions)
