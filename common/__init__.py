"""What the Rasa server (addons/) and the action server (actions/) share: configuration from
the environment (settings.py) and database engines and sessions (db.py). Neither server's
package imports the other's."""
