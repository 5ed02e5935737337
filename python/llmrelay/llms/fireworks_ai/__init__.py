"""Fireworks AI (``litellm.llms.fireworks_ai``)."""
