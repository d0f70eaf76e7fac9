"""Extensions loaded by the Rasa server itself (not the action server), by module path."""
