"""The key press against the reception, as the pane reads it: an alert that waited in the outbox
counts from the key, and a desk clock far off is said, never turned into a wrong duration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from deskalert.keypress import key_press, span
from deskalert.models import Alert, AlertState, PrincipalKind, Responder

HUB = datetime(2026, 11, 21, 22, 18, 17, tzinfo=UTC)


def alert(
    pressed_before_s: float | None,
    *,
    answered_after_s: float | None = None,
    resolved_after_s: float | None = None,
) -> Alert:
    """An alert the hub received at HUB, pressed `pressed_before_s` earlier by the desk's clock;
    answer and resolution times are hub times after the reception."""
    created = None if pressed_before_s is None else HUB - timedelta(seconds=pressed_before_s)
    responders = (
        []
        if answered_after_s is None
        else [
            Responder(
                id="s.a",
                kind=PrincipalKind.SUPERVISOR,
                name="Ana Sup",
                at=HUB + timedelta(seconds=answered_after_s),
            )
        ]
    )
    closed = None if resolved_after_s is None else HUB + timedelta(seconds=resolved_after_s)
    return Alert(
        id=uuid4(),
        code="renfort",
        code_label="Renfort",
        discreet=True,
        priority=2,
        desk="g1",
        desk_label="Guichet 1",
        site="accueil",
        location="RDC",
        created_at=created,
        received_at=HUB,
        state=AlertState.RESOLVED if closed else AlertState.OPEN,
        test=False,
        responders=responders,
        closed_at=closed,
        updated_at=HUB,
    )


def test_an_alert_that_waited_in_the_outbox_starts_at_the_key_press() -> None:
    press = key_press(alert(15))
    assert press.start == HUB - timedelta(seconds=15) and press.waited == timedelta(seconds=15)
    assert press.delayed and press.doubt is None


@pytest.mark.parametrize(("before", "delayed"), [(0, False), (1.5, False), (-1.5, False)])
def test_clocks_a_second_apart_read_as_at_once(before: float, delayed: bool) -> None:
    press = key_press(alert(before))
    assert press.delayed is delayed and press.doubt is None
    assert press.start <= HUB


def test_a_desk_clock_ahead_of_the_hub_is_said_and_the_reception_is_the_start() -> None:
    press = key_press(alert(-180))  # "pressed" three minutes after the hub received it
    assert (press.doubt, press.start, press.gap) == ("ahead", HUB, timedelta(minutes=3))
    assert not press.delayed


def test_a_desk_clock_far_behind_is_said_and_the_reception_is_the_start() -> None:
    press = key_press(alert(3 * 3600))
    assert (press.doubt, press.start, press.gap) == ("behind", HUB, timedelta(hours=3))


def test_an_alert_without_a_desk_time_starts_at_the_reception() -> None:
    press = key_press(alert(None))
    assert (press.start, press.pressed_at, press.doubt) == (HUB, None, None)


def test_span_reads_as_people_say_it() -> None:
    assert [span(timedelta(seconds=s)) for s in (0, 15.9, 125, 3900)] == [
        "0 s",
        "15 s",
        "2 min 05 s",
        "1 h 05 min",
    ]
