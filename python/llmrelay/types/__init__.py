"""Type definitions mirroring ``litellm.types`` (response objects, enums, TypedDicts)."""
