"""A person's own account page and secret calendar feed."""

import datetime as dt
import re

import icalendar

from portal.core import calendar
from portal.core.accounts import Role
from portal.core.calendar import CalendarEvent
from portal.core.clock import london_to_utc
from tests.builders import FIXED_NOW


def course_day(sender, **kwargs):
    """A stand-in for the training module's receiver: one course day for everyone."""
    return [
        CalendarEvent(
            uid=calendar.event_uid("course-day", sender.id),
            summary="Facilitator course: day 1",
            starts_at=london_to_utc(FIXED_NOW.date(), dt.time(9, 30)),
            ends_at=london_to_utc(FIXED_NOW.date(), dt.time(16, 30)),
        )
    ]


def test_feed_address_is_issued_works_without_sign_in_and_stops_when_reset(client, login_as):
    login_as(Role.VOLUNTEER)
    issued = client.post("/account/calendar-feed")
    assert issued.status_code == 200
    url = re.search(r'<code id="feed-url">http://localhost([^<]+)</code>', issued.text).group(1)
    client.post("/sign-out")

    with calendar.feed_events_requested.connected_to(course_day):
        feed = client.get(url)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    parsed = icalendar.Calendar.from_ical(feed.data)
    assert [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")] == ["Facilitator course: day 1"]
    assert feed.headers["Cache-Control"] == "no-store"

    assert client.get(url.replace(".ics", "x.ics")).status_code == 404


def test_resetting_the_feed_address_revokes_the_old_one(client, login_as):
    login_as(Role.VOLUNTEER)
    first = re.search(r"http://localhost([^<]+)</code>", client.post("/account/calendar-feed").text).group(1)
    account = client.get("/account/")
    assert "Get a new feed address" in account.text
    second = re.search(r"http://localhost([^<]+)</code>", client.post("/account/calendar-feed").text).group(1)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
