"""Find the model a user names on the command line: ``FILE.py:Name`` or ``package.module:name``.

Loading a model runs its code: the file is imported (every statement at its top level runs)
and the class or factory named is called, so only load files you trust. Whatever that code
raises, ``SystemExit`` (``sys.exit()``, ``exit()``) and ``KeyboardInterrupt`` included, is
reported as a :class:`ModelLoadError`, never as the program's own end.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from ..engine.errors import ConvScopeError


class ModelLoadError(ConvScopeError):
    """The named file or module does not import, does not define the name, or does not give a model."""


USER_CODE_EXITS = (SystemExit, KeyboardInterrupt)  # raised by the user's code, they must not end convscope quietly


def _raised(error: BaseException) -> str:
    """``"RuntimeError: boom"``, or what a ``SystemExit`` means (its code is the message)."""
    if isinstance(error, SystemExit):
        return f"SystemExit({error.code!r}): the code called sys.exit() or exit()"
    if isinstance(error, KeyboardInterrupt):
        return "KeyboardInterrupt: raised by the code (or Ctrl+C)"
    return f"{type(error).__name__}: {error}".splitlines()[0]


def _exit_fix(error: BaseException, fallback: str) -> str:
    if isinstance(error, SystemExit):
        return ("keep the script part of the file under `if __name__ == \"__main__\":`, so that importing it "
                "only defines the model")
    return fallback


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
    except (Exception, *USER_CODE_EXITS) as error:  # the user's constructor: anything can go wrong
        fix = "remove the sys.exit() or exit() call from it" if isinstance(error, SystemExit) else \
            "give every argument a default, or add a function that builds the model and name that"
        raise ModelLoadError(f"{where}:{name}() failed", expected="a constructor that takes no arguments",
                             got=_raised(error), fix=fix) from error
    if not isinstance(model, torch.nn.Module):
        raise ModelLoadError(f"{where}:{name} is not a model", expected="a torch.nn.Module",
                             got=type(model).__name__, fix="name the nn.Module class or instance")
    return model


def _import(where: str) -> Any:
    path = Path(where)
    if where.endswith(".py") or path.exists():
        if not path.is_file():
            found = "nothing there" if not path.exists() else ("a folder" if path.is_dir() else
                                                                "not a regular file (a FIFO, a device, ...)")
            raise ModelLoadError(f"no file {where!r}", expected="a Python file that defines the model",
                                 got=found, fix="check the path")
        spec = importlib.util.spec_from_file_location(f"convscope_user_{abs(hash(path.resolve()))}", path)
        if spec is None or spec.loader is None:  # a name Python does not import as source: not *.py
            raise ModelLoadError(f"{where} is not a Python file", expected="a file ending in .py",
                                 got=repr(path.suffix or "no extension"), fix=f"name it {path.stem}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, *USER_CODE_EXITS) as error:  # whatever the user's file raises on import
            sys.modules.pop(spec.name, None)
            raise ModelLoadError(f"{where} does not import", expected="a file Python can run",
                                 got=_raised(error),
                                 fix=_exit_fix(error, "run `python " + where + "` to see the full error")) from error
        return module
    try:
        return importlib.import_module(where)
    except (Exception, *USER_CODE_EXITS) as error:  # an import error of any kind
        raise ModelLoadError(f"module {where!r} does not import", expected="an importable package.module",
                             got=_raised(error),
                             fix=_exit_fix(error, "check the name, or give a file path ending in .py")) from error


def _state_dict(saved: Any) -> dict[str, Any] | None:
    """A plain state dict, or one kept under a common key of a training checkpoint."""
    import torch

    if isinstance(saved, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(saved.get(key), dict):
                saved = saved[key]
                break
        if saved and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in saved.items()):
            return saved
    return None


def load_weights(model: Any, path: str) -> None:
    """Put the weights saved in ``path`` (``torch.save(model.state_dict())``, or a checkpoint that
    holds one) into ``model``. Read with ``weights_only=True``: a checkpoint cannot run code."""
    import torch

    where = Path(path)
    if not where.is_file():
        raise ModelLoadError(f"no weights file {path!r}", expected="a file written by torch.save(model.state_dict())",
                             got="nothing there" if not where.exists() else "a folder" if where.is_dir()
                             else "not a regular file (a FIFO, a device, ...)", fix="check the path")
    try:
        saved = torch.load(where, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - pickle, zip and torch's own errors: all mean "not a checkpoint"
        raise ModelLoadError(f"{path} is not a torch checkpoint", expected="a file written by torch.save",
                             got=_raised(error), fix="save the weights with torch.save(model.state_dict(), path)") \
            from error
    state = _state_dict(saved)
    if state is None:
        raise ModelLoadError(f"{path} holds no state dict", expected="a dict of parameter names to tensors",
                             got=type(saved).__name__, fix="save model.state_dict(), not the model or a list")
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k}: file {tuple(state[k].shape)}, model {tuple(own[k].shape)}" for k in own
             if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = [f"{label} {', '.join(items[:3])}{' ...' if len(items) > 3 else ''} ({len(items)})"
                 for label, items in (("shapes differ:", wrong), ("missing:", missing), ("unexpected:", unexpected))
                 if items]
        raise ModelLoadError(f"the weights in {path} do not fit the model", expected="the same names and shapes as "
                             "model.state_dict()", got="; ".join(parts),
                             fix="load the weights saved from this model class (with the same constructor arguments)")
    model.load_state_dict(state)
