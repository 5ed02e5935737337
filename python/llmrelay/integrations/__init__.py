"""Callback and guardrail base classes (``CustomLogger``, ``CustomGuardrail``)."""
