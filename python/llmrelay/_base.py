"""Plain-Python base class for llmrelay's response objects.

The response classes look like LiteLLM's pydantic models to user code (attribute
access, ``obj["key"]``, ``model_dump()``, ``json()``, ...), but are ordinary
classes whose state lives in ``__dict__``.  That keeps construction from a parsed
JSON dict down to a few dictionary operations.

How state is stored
-------------------
``__dict__`` holds the fields that were *set* (pydantic's ``model_fields_set``)
plus any extra keys, plus private attributes (names starting with ``_``, never
dumped).  Each subclass declares:

``_order``
    Every known field, in the order LiteLLM dumps them.
``_always``
    Fields present in every dump even when not stored; the value is the default.
    The default is also installed as a class attribute, so ``obj.field`` works.
``_defaults``
    Fields present only in *full* dumps (pydantic's ``exclude_unset=False``) when
    not stored; also installed as class attributes.

Any other field in ``_order`` exists only when stored: reading it otherwise raises
``AttributeError`` (LiteLLM deletes such unset optional fields the same way).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["FieldMissingError", "_Base"]

_SCALARS = (str, int, float, bool, type(None))


class FieldMissingError(KeyError, AttributeError):
    """Raised by ``obj["name"]`` for an absent field (catchable as either type)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _LazyHiddenParams:
    """Non-data descriptor: creates the per-object ``_hidden_params`` dict on first read."""

    __slots__ = ()

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        d: dict = {}
        obj.__dict__["_hidden_params"] = d
        return d


def _dump_value(v: Any, unset: bool, none: bool) -> Any:
    t = type(v)
    if t in _SCALARS:
        return v
    if isinstance(v, _Base):
        return v._dump(unset, none)
    if t is list or t is tuple:
        return [_dump_value(x, unset, none) for x in v]
    if t is dict:
        return {k: _dump_value(x, unset, none) for k, x in v.items()}
    if isinstance(v, dict):
        return {k: _dump_value(x, unset, none) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_dump_value(x, unset, none) for x in v]
    dump = getattr(v, "model_dump", None)  # pydantic objects supplied by users
    if dump is not None and callable(dump):
        return dump()
    return v


def _json_default(v: Any) -> Any:
    if isinstance(v, _Base):
        return v._dump(False, False)
    value = getattr(v, "value", None)  # enums
    if value is not None and isinstance(value, _SCALARS):
        return value
    if isinstance(v, (set, frozenset)):
        return list(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    iso = getattr(v, "isoformat", None)
    if iso is not None:
        return iso()
    dump = getattr(v, "model_dump", None)
    if dump is not None:
        return dump()
    return str(v)


def _to_json(data: Any, indent: int | None) -> str:
    import json

    if indent is None:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return json.dumps(data, indent=indent, ensure_ascii=False, default=_json_default)


def _filter_top(out: dict, include: Any, exclude: Any) -> dict:
    if include is not None:
        out = {k: v for k, v in out.items() if k in include}
    if exclude is not None:
        if isinstance(exclude, dict):
            # pydantic-style {"field": True} / {"field": {...nested}}: only top-level True honoured
            drop = {k for k, v in exclude.items() if v is True or v is ...}
        else:
            drop = set(exclude)
        out = {k: v for k, v in out.items() if k not in drop}
    return out


class _Base:
    _order: ClassVar[tuple[str, ...]] = ()
    # fields of _order that LiteLLM dumps *after* the extra keys (pydantic puts
    # extras passed to __init__ before fields assigned later)
    _tail: ClassVar[tuple[str, ...]] = ()
    _always: ClassVar[dict[str, Any]] = {}
    _defaults: ClassVar[dict[str, Any]] = {}
    # model_dump() without exclude_unset/exclude_none behaves as exclude_unset=True
    # (LiteLLM does this for ModelResponse and ModelResponseStream).
    _unset_dump: ClassVar[bool] = False
    # LiteLLM's json() returns a dict for some classes and a JSON string for others.
    _json_is_dict: ClassVar[bool] = False

    # computed per class in __init_subclass__
    _plan: ClassVar[tuple[tuple[str, int, Any], ...]] = ()
    _tail_plan: ClassVar[tuple[tuple[str, int, Any], ...]] = ()
    _known: ClassVar[frozenset[str]] = frozenset()
    model_fields: ClassVar[dict[str, None]] = {}

    _hidden_params = _LazyHiddenParams()

    __hash__ = None  # type: ignore[assignment]  # unhashable, like pydantic models

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        always = cls._always
        defaults = cls._defaults
        for name, value in always.items():
            setattr(cls, name, value)
        for name, value in defaults.items():
            setattr(cls, name, value)
        plan = []
        tail = []
        for name in cls._order:
            if name in always:
                entry = (name, 1, always[name])
            elif name in defaults:
                entry = (name, 2, defaults[name])
            else:
                entry = (name, 0, None)
            (tail if name in cls._tail else plan).append(entry)
        cls._plan = tuple(plan)
        cls._tail_plan = tuple(tail)
        cls._known = frozenset(cls._order)
        cls.model_fields = {name: None for name in cls._order}

    # ------------------------------------------------------------------ dumping
    def _dump(self, unset: bool, none: bool) -> dict:
        d = self.__dict__
        out: dict = {}
        for name, mode, default in self._plan:
            if name in d:
                v = d[name]
            elif mode == 1 or (mode == 2 and not unset):
                v = default
            else:
                continue
            if v is None and none:
                continue
            out[name] = _dump_value(v, unset, none)
        known = self._known
        for k, v in d.items():
            if k in known or k[:1] == "_":
                continue
            if v is None and none:
                continue
            out[k] = _dump_value(v, unset, none)
        for name, mode, default in self._tail_plan:
            if name in d:
                v = d[name]
            elif mode == 1 or (mode == 2 and not unset):
                v = default
            else:
                continue
            if v is None and none:
                continue
            out[name] = _dump_value(v, unset, none)
        return out

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Any = None,
        exclude: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool | None = None,
        exclude_defaults: bool = False,
        exclude_none: bool | None = None,
        round_trip: bool = False,
        warnings: Any = True,
        **_: Any,
    ) -> dict[str, Any]:
        if exclude_unset is None:
            unset = self._unset_dump and exclude_none is None
        else:
            unset = bool(exclude_unset)
        out = self._dump(unset or exclude_defaults, bool(exclude_none))
        if include is not None or exclude is not None:
            out = _filter_top(out, include, exclude)
        return out

    def dict(self, **kwargs: Any) -> dict[str, Any]:  # pydantic v1 spelling
        kwargs.setdefault("exclude_unset", False)
        return self.model_dump(**kwargs)

    def to_dict(
        self,
        *,
        mode: str = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        return self._dump(exclude_unset or exclude_defaults, exclude_none)

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        include: Any = None,
        exclude: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: Any = True,
        **_: Any,
    ) -> str:
        out = self._dump(exclude_unset or exclude_defaults, exclude_none)
        if include is not None or exclude is not None:
            out = _filter_top(out, include, exclude)
        return _to_json(out, indent)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        return _to_json(self._dump(exclude_unset or exclude_defaults, exclude_none), indent)

    def json(self, **kwargs: Any) -> Any:
        if self._json_is_dict:
            return self.model_dump(**kwargs)
        return self.model_dump_json(**kwargs)

    # ---------------------------------------------------------- pydantic extras
    @classmethod
    def model_validate(cls, obj: Any, **_: Any) -> Any:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict):
            return cls(**obj)
        if isinstance(obj, _Base):
            return cls(**obj._dump(True, False))
        raise TypeError(f"cannot validate {type(obj).__name__} as {cls.__name__}")

    parse_obj = model_validate

    @classmethod
    def model_construct(cls, _fields_set: Any = None, **values: Any) -> Any:
        obj = object.__new__(cls)
        obj.__dict__.update(values)
        return obj

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        import copy as _copy

        new = _copy.deepcopy(self) if deep else _copy.copy(self)
        if update:
            new.__dict__.update(update)
        return new

    def copy(self, **kwargs: Any) -> Any:  # pydantic v1 spelling
        return self.model_copy(update=kwargs.get("update"), deep=bool(kwargs.get("deep")))

    @property
    def model_fields_set(self) -> set[str]:
        return {k for k in self.__dict__ if k[:1] != "_"}

    @property
    def model_extra(self) -> dict[str, Any]:
        known = self._known
        return {k: v for k, v in self.__dict__.items() if k not in known and k[:1] != "_"}

    # ------------------------------------------------------ mapping-style access
    def _has(self, key: str) -> bool:
        if key in self.__dict__:
            return key[:1] != "_"
        cls = type(self)
        return key in cls._always or key in cls._defaults

    def __getitem__(self, key: str) -> Any:
        if isinstance(key, str) and self._has(key):
            return getattr(self, key)
        raise FieldMissingError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def get(self, key: str, default: Any = None) -> Any:
        if isinstance(key, str) and self._has(key):
            return getattr(self, key)
        return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._has(key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def _items(self) -> list[tuple[str, Any]]:
        d = self.__dict__
        items = []
        for name, mode, default in self._plan:
            if name in d:
                items.append((name, d[name]))
            elif mode:
                items.append((name, default))
        known = self._known
        for k, v in d.items():
            if k not in known and k[:1] != "_":
                items.append((k, v))
        for name, mode, default in self._tail_plan:
            if name in d:
                items.append((name, d[name]))
            elif mode:
                items.append((name, default))
        return items

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Base):
            if type(other) is not type(self):
                return NotImplemented
            return self._dump(False, False) == other._dump(False, False)
        if isinstance(other, dict):
            return self._dump(False, False) == other or self._dump(True, False) == other
        return NotImplemented

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._items())
        return f"{type(self).__name__}({inner})"

    __str__ = __repr__
