"""Events are deserialised to the same classes as by Rasa's own lookup, for every event type
Rasa knows, for names it does not, and for a subclass defined after the first lookup."""

import pytest
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.utils.common import all_subclasses

import addons  # noqa: F401  (installs, as the Rasa server's first addon import does)
from addons import rasa_patches
from addons.event_types import resolve_by_type

rasa_resolve = rasa_patches.original(Event, "resolve_by_type")


def test_the_rasa_server_uses_the_table():
    assert Event.resolve_by_type is resolve_by_type
    assert rasa_resolve.__module__ == "rasa.shared.core.events"


@pytest.mark.parametrize("type_name", sorted({cls.type_name for cls in all_subclasses(Event)}))
def test_every_event_type_resolves_to_rasas_class(type_name):
    assert resolve_by_type(type_name) is rasa_resolve(type_name)


def test_names_no_class_has_are_answered_as_by_rasa():
    assert resolve_by_type("topic") is rasa_resolve("topic") is None
    assert resolve_by_type("no such event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no such event'"):
        resolve_by_type("no such event")


def test_a_subclass_defined_later_is_found():
    resolve_by_type("slot")  # the table is built

    class LaterEvent(SlotSet):
        type_name = "later_event_for_this_test"

    assert resolve_by_type("later_event_for_this_test") is LaterEvent
    assert Event.from_parameters({"event": "later_event_for_this_test", "name": "x"}).key == "x"
