

def test_a_rows_own_button_without_javascript_posts_the_bars_csrf_field(app, client, auth,
                                                                        picked):
    auth.sign_in_as(picked.operator)
    page = client.get("/bookings").data.decode()
    bar = re.search(r'<form id="bulk-selected".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', bar).group(1)
    failed = picked.ids["failed"][0]
    action = re.search(rf"<button form=bulk-selected formaction=(/bookings/{failed}/retry) ",
                       page).group(1)
    assert 'name="csrf_token"' not in page.split('id="booking-table"')[1]  # one field, the bar's
    response = client.post(action, data={"csrf_token": token}, csrf=False)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Operation).where(
            Operation.booking_id == failed, Operation.state == "queued")) == 1
