"""The bookings table (filters, pages, live status) and one booking's page."""

from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.bookings.blueprint import bp
from dashboard.bookings.forms import BookingFilterForm
from dashboard.bookings.rendering import (
    ROW,
    actions_of,
    booking_or_404,
    may_operate,
    render_detail,
    reschedule_form,
    row_context,
)
from dashboard.htmx import fragment, is_htmx, page_or_partial, with_out_of_band
from dashboard.models import Permission, Workspace
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bookings
from dashboard.services.booking_input import local_time
from dashboard.services.live_rows import live_rows

PAGE_SIZE = 50


def _page(workspace: Workspace, form: BookingFilterForm) -> tuple[bookings.BookingPage, bool]:
    """The page of bookings the filter asks for, and whether the filter was understood."""
    if not form.validate():  # listing everything under a filter not understood would mislead
        return bookings.BookingPage([], None), False
    since, until = form.days(workspace.timezone)
    filters = bookings.BookingFilters(status=form.status.data or None, since=since,
                                      until=until, search=(form.q.data or "").strip() or None,
                                      sync=form.sync.data or None,
                                      sync_since=form.sync_since(utcnow()))
    try:
        return bookings.list_bookings(workspace, filters, request.args.get("cursor"),
                                      PAGE_SIZE), True
    except ServiceError as error:  # a cursor someone edited: the first page instead
        form.form_errors.append(error.message)
        return bookings.list_bookings(workspace, filters, None, PAGE_SIZE), False


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
    page, valid = _page(workspace, form)
    rows = live_rows(page.bookings)
    args = {k: v for k, v in query.items() if k in form._fields and (v or k == "since")}
    context = {"form": form, "page": page, "filter_args": args, "zone": workspace.timezone,
               "valid": valid, "paged": bool(request.args.get("cursor")),
               "live_ids": rows.polling, "offers": actions_of(page.bookings, rows),
               "may_operate": may_operate()}
    response = page_or_partial("pages/bookings.html", "partials/booking_table.html",
                               200 if valid else 422, **context)
    if is_htmx():
        # The filter form out of band, so its messages sit beside the fields.
        with_out_of_band(response, "partials/booking_filters.html", **context)
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
    return fragment(ROW, **row_context(booking))


@bp.route("/<int:booking_id>")
@requires(Permission.VIEW)
def detail(booking_id: int) -> Response:
    booking = booking_or_404(booking_id)
    return render_detail(booking, reschedule_form(booking))
