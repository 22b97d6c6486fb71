"""Find the model a user names on the command line: ``FILE.py:Name`` or ``package.module:name``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from ..engine.errors import ConvScopeError


class ModelLoadError(ConvScopeError):
    """The named file or module does not import, does not define the name, or does not give a model."""


def load_model(spec: str) -> Any:
    """Import and build the model: a module instance is used as it is, a class is called with no
    arguments, a function is called and must return a module."""
    import torch

    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ModelLoadError("which model?", expected="FILE.py:ModelClass or package.module:attribute",
                             got=repr(spec), fix="e.g. convscope trace models.py:LeNet --input 1,1,28,28")
    module = _import(where)
    if not hasattr(module, name):
        models = sorted(k for k, v in vars(module).items()
                        if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == module.__name__)
        raise ModelLoadError(f"{where} does not define {name!r}",
                             expected="a module class, a module instance or a function returning one",
                             got=f"models defined there: {', '.join(models) or 'none'}",
                             fix=f"use {where}:{models[0]}" if models else "check the name")
    found = getattr(module, name)
    try:
        model = found() if callable(found) and not isinstance(found, torch.nn.Module) else found
    except Exception as error:  # the user's constructor: anything can go wrong
        raise ModelLoadError(f"{where}:{name}() failed", expected="a constructor that takes no arguments",
                             got=f"{type(error).__name__}: {error}", fix="give every argument a default, "
                             "or add a function that builds the model and name that") from error
    if not isinstance(model, torch.nn.Module):
        raise ModelLoadError(f"{where}:{name} is not a model", expected="a torch.nn.Module",
                             got=type(model).__name__, fix="name the nn.Module class or instance")
    return model


def _import(where: str) -> Any:
    path = Path(where)
    if where.endswith(".py") or path.exists():
        if not path.is_file():
            raise ModelLoadError(f"no file {where!r}", expected="a Python file that defines the model",
                                 got="nothing there", fix="check the path")
        spec = importlib.util.spec_from_file_location(f"convscope_user_{abs(hash(path.resolve()))}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # whatever the user's file raises on import
            sys.modules.pop(spec.name, None)
            raise ModelLoadError(f"{where} does not import", expected="a file Python can run",
                                 got=f"{type(error).__name__}: {error}".splitlines()[0],
                                 fix="run `python " + where + "` to see the full error") from error
        return module
    try:
        return importlib.import_module(where)
    except Exception as error:  # an import error of any kind
        raise ModelLoadError(f"module {where!r} does not import", expected="an importable package.module",
                             got=f"{type(error).__name__}: {error}".splitlines()[0],
                             fix="check the name, or give a file path ending in .py") from error
