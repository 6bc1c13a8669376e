"""tts-router: the service."""
