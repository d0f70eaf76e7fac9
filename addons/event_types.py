"""Find an event's class by its type name without walking Rasa's class tree for every event.

Rasa 3.6's `Event.resolve_by_type` lists every subclass of `Event` (recursively, asking each
whether it is abstract) for each event it deserialises, so loading a tracker of 100 events walks
the tree 100 times: 9% of the Rasa server's CPU under load (py-spy, docs/measurements.md). The
replacement keeps a table from type name to class, built from the same list in the same order
(the first class with a name wins, as in Rasa's loop), and rebuilds it when a name is missing, so
a subclass imported later is still found. Names no class has go to Rasa's own method. Rasa has no
hook for this, so `install()` replaces the method through addons/rasa_patches.py.
"""

from __future__ import annotations

from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from addons import rasa_patches

_by_type_name: dict[str, type[Event]] = {}


def _rebuild() -> None:
    table: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    _by_type_name.clear()
    _by_type_name.update(table)


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    found = _by_type_name.get(type_name)
    if found is None:
        _rebuild()
        found = _by_type_name.get(type_name)
    if found is not None:
        return found
    return rasa_patches.original(Event, "resolve_by_type")(type_name, default)


PATCHES = [
    rasa_patches.Patch(
        Event,
        "resolve_by_type",
        staticmethod(resolve_by_type),
        written_for="3.6.21",
        signature="(type_name: str, default: Optional[Type[ForwardRef('Event')]] = None) "
        "-> Optional[Type[ForwardRef('Event')]]",
    )
]


def install() -> None:
    rasa_patches.install(PATCHES)
