"""The bookings table (filters, sort, pages, its one live poll), a row's menu, and one
booking's page."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, redirect, request, url_for
from werkzeug.wrappers import Response

from dashboard import page_cache
from dashboard.access import current_workspace, requires
from dashboard.bookings.blueprint import bp
from dashboard.bookings.bulk import shown_jobs
from dashboard.bookings.forms import BookingFilterForm
from dashboard.bookings.rendering import (
    ROW,
    booking_or_404,
    may_operate,
    render_detail,
    reschedule_form,
    row_context,
)
from dashboard.bookings.row_cache import rendered_rows
from dashboard.bookings.table import live_poll, pager, table_bits
from dashboard.htmx import fragment, is_htmx, page_or_partial, with_out_of_band
from dashboard.models import Permission, Workspace
from dashboard.orm import utcnow
from dashboard.services import ServiceError, bookings, bulk_jobs
from dashboard.services.booking_input import local_time
from dashboard.services.live_rows import (
    changed_since,
    in_flight,
    live_rows,
    new_after,
    newest_id,
)

PAGE_SIZE = 50
COUNT_CAP = 1_000  # "1 to 50 of 1,000+": counting further costs more than the page
MAX_POLLED = 200  # ids one poll may ask about: a page is 50 rows


def _filters(workspace: Workspace, form: BookingFilterForm) -> bookings.BookingFilters:
    since, until = form.days(workspace.timezone)
    return bookings.BookingFilters(status=form.status.data or None, since=since,
                                   until=until, search=(form.q.data or "").strip() or None,
                                   sync=form.sync.data or None,
                                   sync_since=form.sync_since(utcnow()))


def _page(workspace: Workspace, form: BookingFilterForm, descending: bool,
          at: int) -> tuple[bookings.BookingPage, bool, int | None]:
    """The page of bookings the filter asks for, whether the filter was understood, and how
    many bookings it matches: up to COUNT_CAP, or None when only scanning could tell (a
    search with more than one page: counting would cost many pages) or when the page
    (its first row at ``at``) lies past COUNT_CAP ("of 1,000+" says nothing there)."""
    if not form.validate():  # listing everything under a filter not understood would mislead
        return bookings.BookingPage([], None), False, 0
    filters = _filters(workspace, form)
    args = request.args
    try:
        page = bookings.list_bookings(workspace, filters, args.get("cursor"), PAGE_SIZE,
                                      before=args.get("before"), descending=descending,
                                      table_rows=True)
        valid = True
    except ServiceError as error:  # a cursor someone edited: the first page instead
        form.form_errors.append(error.message)
        page, valid = bookings.list_bookings(workspace, filters, None, PAGE_SIZE,
                                             descending=descending, table_rows=True), False
    if (filters.search and (page.next_cursor or page.previous_cursor)) or (
            at + PAGE_SIZE > COUNT_CAP):
        return page, valid, None
    if not (page.next_cursor or page.previous_cursor):  # one page: its rows are the count
        return page, valid, len(page.bookings)
    return page, valid, bookings.count_bookings(workspace, filters, COUNT_CAP)


def _position() -> int:
    try:
        return max(1, int(request.args.get("at", "1")))
    except ValueError:
        return 1


@bp.route("")
@requires(Permission.VIEW)
def index() -> Response:
    workspace = current_workspace()
    today = local_time(utcnow(), workspace.timezone).date()
    if request.args.get("window"):  # "finished in the last hour" moves with the clock
        return _index(workspace, today)
    return page_cache.kept_or_made(workspace, lambda: _index(workspace, today), extra=today)


def _index(workspace: Workspace, today: date) -> Response:
    query = request.args.copy()
    if "since" not in query:
        # What is coming is what operators work on, and it keeps the status filter on the
        # near end of the start-time index; clearing From shows every date.
        query["since"] = today.isoformat()
    form = BookingFilterForm(query)
    descending = query.get("sort") == "-start"
    paged = bool(request.args.get("cursor") or request.args.get("before"))
    at = _position() if paged else 1
    page, valid, total = _page(workspace, form, descending, at)
    rows = live_rows(page.bookings)
    zone = workspace.timezone
    table = table_bits(may_operate())
    args = {k: v for k, v in query.items() if k in form._fields and (v or k == "since")}
    ids = [b.id for b in page.bookings]
    context = {
        "form": form, "filter_args": args, "zone": zone, "valid": valid, "table": table,
        "row_html": rendered_rows(page.bookings, rows, zone, table),
        "pager": pager(table.base, args, page, at=at, total=total,
                       cap=COUNT_CAP, descending=descending, paged=paged),
        "live": live_poll(table.base, ids, newest_id(), utcnow(), bool(rows.polling))
        if valid else None}
    if context["live"]:  # "updated N s ago" counts from the answer, kept or not
        page_cache.per_request(context["live"].at, lambda: utcnow().isoformat())
    if not is_htmx():  # the bars sit above the table: htmx swaps only the table
        context.update(jobs=shown_jobs(workspace.id), job_titles=bulk_jobs.TITLES)
    response = page_or_partial("pages/bookings.html", "partials/booking_table.html",
                               200 if valid else 422, **context)
    if is_htmx():
        # The filter form out of band, so its messages sit beside the fields.
        with_out_of_band(response, "partials/booking_filters.html", **context)
    return response


def _poll_args() -> tuple[list[int], int, datetime]:
    """The poll's ids, newest booking id and time; anything malformed is a 400."""
    try:
        raw = request.args.get("ids", "")
        ids = [int(part) for part in raw.split(".") if part][:MAX_POLLED]
        after = int(request.args["after"])
        since = datetime.fromtimestamp(float(request.args["since"]), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        abort(400, "The poll's ids, after and since must be numbers.")
    return ids, after, since


@bp.route("/live")
@requires(Permission.VIEW)
def live() -> Response:
    """An open table's one poll: the rows that changed since the last, a note of new
    bookings, and the next poll (its own element, carrying the new time)."""
    if not is_htmx():
        return redirect(url_for("bookings.index"))
    workspace = current_workspace()
    ids, after, since = _poll_args()
    now = utcnow()
    changed = changed_since(workspace.id, ids, since)
    found = bookings.table_rows(workspace, changed)
    rows = live_rows(found)
    table = table_bits(may_operate())
    return fragment(
        "partials/booking_poll.html",
        row_html=rendered_rows(found, rows, workspace.timezone, table, oob=True),
        table=table, fresh=new_after(workspace.id, after),
        live=live_poll(table.base, ids, after, now, in_flight(ids)))


@bp.route("/<int:booking_id>/row")
@requires(Permission.VIEW)
def row(booking_id: int) -> Response:
    """One row as it stands now: "Close" of an edit, and a row after its menu's action."""
    booking = booking_or_404(booking_id)
    if not is_htmx():
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    # Without the out-of-band flashes: they belong to the action that made them.
    return fragment(ROW, **row_context(booking))


@bp.route("/<int:booking_id>/menu")
@requires(Permission.VIEW)
def menu(booking_id: int) -> Response:
    """A row's menu, fetched when its button is pressed (without JavaScript the button is
    a link to the booking's page, which offers everything)."""
    booking = booking_or_404(booking_id)
    if not is_htmx():
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    context = row_context(booking)
    return fragment("partials/booking_menu.html", r=context["view"], t=context["table"])


@bp.route("/<int:booking_id>")
@requires(Permission.VIEW)
def detail(booking_id: int) -> Response:
    booking = booking_or_404(booking_id)
    return render_detail(booking, reschedule_form(booking))

