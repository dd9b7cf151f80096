"""The Spark engine: the one place a session is built, Connect URL checks, engine-specific tuning."""
