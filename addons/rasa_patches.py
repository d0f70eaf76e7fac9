"""Every replacement of a Rasa method by addons/ goes through here, checked against the installed
Rasa before it is made.

Where Rasa 3.6 offers no hook (see each extension's docstring), an extension replaces one of
Rasa's methods with its own, which calls Rasa's. Those methods are Rasa's internals: a new
release may rename one, change its arguments or what it does, and a replacement written for the
old one would then misbehave quietly. So each `Patch` records the Rasa version it was written for
and the original's signature in that version (`str(inspect.signature(original))`), and `install`
refuses to start, with `IncompatibleRasa`, unless the installed Rasa has both. After upgrading
Rasa: read the new original, adapt the replacement and its tests, then update the two records.

`original(owner, name)` stays Rasa's own method after the replacement, so tests can run both on
the same inputs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import rasa


class IncompatibleRasa(RuntimeError):
    """The installed Rasa is not the one an extension was written for.

    Deliberately neither an ImportError nor an AttributeError: Rasa catches those while loading a
    custom tracker store and carries on with an in-memory one, which would start the server with
    conversations kept in memory only and the extensions missing."""


@dataclass(frozen=True)
class Patch:
    owner: type | ModuleType  # the class or module whose attribute is replaced
    name: str
    replacement: Callable[..., Any]  # its module is the extension named in errors
    written_for: str  # the Rasa version whose original the replacement was written against
    signature: str  # str(inspect.signature(original)) in that version

    @property
    def extension(self) -> str:
        return self.replacement.__module__

    @property
    def target(self) -> str:
        """The replaced attribute's full name, e.g. rasa.core.actions.action.RemoteAction.run."""
        if isinstance(self.owner, ModuleType):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


_originals: dict[tuple[type | ModuleType, str], Callable[..., Any]] = {}
_installed: dict[tuple[type | ModuleType, str], Patch] = {}


def original(owner: type | ModuleType, name: str) -> Callable[..., Any]:
    """Rasa's own `owner.name`, whether or not it has been replaced."""
    key = (owner, name)
    return _originals[key] if key in _originals else getattr(owner, name)


def installed() -> list[Patch]:
    """The replacements in place."""
    return list(_installed.values())


def check(patch: Patch) -> None:
    """Raise IncompatibleRasa unless the installed Rasa is the version the patch was written for
    and the original still has the recorded signature."""
    installed_version = rasa.__version__
    written_for = f"{patch.extension} replaces {patch.target}, written for Rasa {patch.written_for}"
    try:
        found = str(inspect.signature(original(patch.owner, patch.name)))
    except AttributeError:  # re-raised as such, Rasa's tracker store loading would swallow it
        found = None
    if installed_version != patch.written_for:
        problem = f"{written_for}, but Rasa {installed_version} is installed."
    elif found is None:
        problem = f"{written_for}, but the installed Rasa {installed_version} has none."
    elif found != patch.signature:
        problem = (
            f"{written_for} where it is {patch.name}{patch.signature}; in the installed "
            f"Rasa {installed_version} it is {patch.name}{found}."
        )
    else:
        return
    raise IncompatibleRasa(
        f"{problem} Refusing to start: compare the replacement with the installed Rasa's code, "
        f"then update its Patch in {patch.extension}."
    )


def install(patches: Iterable[Patch]) -> None:
    """Check every patch, then make them all (none if any check fails). Installing again is
    harmless: the check is against the recorded original, which stays the one replaced."""
    patches = list(patches)
    for patch in patches:
        check(patch)
    for patch in patches:
        key = (patch.owner, patch.name)
        _originals.setdefault(key, getattr(patch.owner, patch.name))
        setattr(patch.owner, patch.name, patch.replacement)
        _installed[key] = patch
