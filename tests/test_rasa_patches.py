"""addons/ replaces Rasa's methods only in the Rasa it was written for, and refuses to start in
any other, naming the extension, the Rasa attribute and both versions. Rasa's own methods stay
reachable."""

import dataclasses
import inspect

import pytest
import rasa

import addons  # noqa: F401  (installs, as the Rasa server's first addon import does)
from addons import (
    action_connections,
    action_response_check,
    action_server_guard,
    event_types,
    rasa_patches,
    rule_keys,
)
from addons.rasa_patches import IncompatibleRasa, Patch

EXTENSIONS = [
    action_connections,
    action_response_check,
    action_server_guard,
    event_types,
    rule_keys,
]
PATCHES = [patch for extension in EXTENSIONS for patch in extension.PATCHES]


def test_every_replacement_is_in_place_once_addons_is_imported():
    assert set(rasa_patches.installed()) == set(PATCHES)
    for patch in PATCHES:
        assert inspect.getattr_static(patch.owner, patch.name) is patch.replacement
        assert rasa_patches.original(patch.owner, patch.name).__module__.startswith("rasa.")


def test_installing_again_changes_nothing():
    in_place = [getattr(patch.owner, patch.name) for patch in PATCHES]
    originals = [rasa_patches.original(patch.owner, patch.name) for patch in PATCHES]
    for extension in EXTENSIONS:
        extension.install()
    assert [getattr(patch.owner, patch.name) for patch in PATCHES] == in_place
    assert [rasa_patches.original(patch.owner, patch.name) for patch in PATCHES] == originals


@pytest.mark.parametrize("extension", EXTENSIONS, ids=lambda extension: extension.__name__)
def test_another_rasa_version_refuses_to_start(monkeypatch, extension):
    monkeypatch.setattr(rasa, "__version__", "3.6.20")
    with pytest.raises(IncompatibleRasa) as refused:
        extension.install()
    first = extension.PATCHES[0]
    assert str(refused.value).startswith(
        f"{extension.__name__} replaces {first.target}, written for Rasa 3.6.21, "
        "but Rasa 3.6.20 is installed."
    )


def test_a_changed_signature_refuses_to_start():
    # As if RemoteAction.run had had one argument fewer when the guard was written.
    written_for_older_run = dataclasses.replace(
        action_server_guard.PATCHES[0],
        signature="(self, output_channel, nlg, tracker) -> List[rasa.shared.core.events.Event]",
    )
    with pytest.raises(IncompatibleRasa) as refused:
        rasa_patches.install([written_for_older_run])
    message = str(refused.value)
    assert message.startswith(
        "addons.action_server_guard replaces rasa.core.actions.action.RemoteAction.run, "
        "written for Rasa 3.6.21 where it is run(self, output_channel, nlg, tracker) -> "
    )
    assert "in the installed Rasa 3.6.21 it is run(self, output_channel: 'OutputChannel'" in message


class Processor:
    """A Rasa class as a new release might leave it: `handle_message` renamed."""

    def handle_user_message(self, message): ...

    def _predict_next_with_tracker(self, tracker): ...


def predict(self, tracker): ...


def handle(self, message): ...


def test_a_method_rasa_no_longer_has_refuses_to_start_and_nothing_is_replaced():
    version = rasa.__version__
    kept = Patch(Processor, "_predict_next_with_tracker", predict, version, "(self, tracker)")
    gone = Patch(Processor, "handle_message", handle, version, "(self, message)")
    with pytest.raises(IncompatibleRasa) as refused:
        rasa_patches.install([kept, gone])
    assert str(refused.value).startswith(
        "tests.test_rasa_patches replaces tests.test_rasa_patches.Processor.handle_message, "
        f"written for Rasa {version}, but the installed Rasa {version} has none."
    )
    assert Processor._predict_next_with_tracker is not predict
    assert not hasattr(Processor, "handle_message")
