"""Trained models on disk: one folder per version, one of them active, rollback to the one before.

    <root>/<version>/model.skops      the fitted estimator per target (skops, never pickle)
    <root>/<version>/metadata.json    model format, versions, label sets, data fingerprint, metrics
    <root>/active.json                {"history": [..., previous, active]}

A version is published by renaming a finished folder into place, and the active pointer is
replaced atomically, so a reader never sees half a model. scikit-learn and skops are imported
where a model is written or read, not to list versions (a second of start-up that `backlog`,
`check --offline` and the console's pages do without).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import platform
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifiers.model import TriageModel

__all__ = ["ModelError", "ModelStore"]

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
ACTIVE_FILE = "active.json"
# What model.skops holds: 2 = {target: QuestionClassifier} (1, without this key, was
# {target: Pipeline} sharing one fitted FeatureUnion; it is refused, not converted).
MODEL_FORMAT = 2


class ModelError(Exception):
    """A stored model that cannot be used; the message is one line naming the file at fault."""


class ModelStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- writing ---------------------------------------------------------------------------
    def save(self, model: TriageModel, metrics: Mapping[str, Any] | None = None, *, activate: bool = False) -> str:
        """Store `model` as a new version (not active unless `activate`); return the version id."""
        self.root.mkdir(parents=True, exist_ok=True)
        created = datetime.now(UTC)
        version = self._free_version(f"{created:%Y-%m-%dT%H%M}-{model.data_fingerprint[:8] or 'nodata'}")
        import sklearn
        import skops
        import skops.io

        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.root))
        skops.io.dump(model.estimators, staging / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)
        metadata = {
            "version": version,
            "model_format": MODEL_FORMAT,
            "created": created.isoformat(timespec="seconds"),
            "sklearn_version": sklearn.__version__,
            "skops_version": skops.__version__,
            "python_version": platform.python_version(),
            "labels": {target: list(labels) for target, labels in model.label_sets.items()},
            "classes": {t: [str(c) for c in e.classes_] for t, e in model.estimators.items()},
            "data_fingerprint": model.data_fingerprint,
            "n_examples": model.n_examples,
            "move_threshold": model.move_threshold,
            "temperatures": dict(model.temperatures),
            "metrics": dict(metrics or {}),
            "model_sha256": _sha256(staging / MODEL_FILE),
        }
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", "utf-8")
        staging.rename(self.root / version)
        model.version = version
        if activate:
            self.activate(version)
        return version

    def activate(self, version: str) -> None:
        """Make `version` the one `load()` returns."""
        self.metadata(version)  # refuses an unknown version
        history = self._history()
        if history[-1:] != [version]:
            self._write_history([*history, version])

    def rollback(self) -> str:
        """Make the previously active version active again; return it."""
        history = self._history()
        if len(history) < 2:
            raise ModelError(f"{self.root / ACTIVE_FILE}: no previously active model to roll back to")
        self._write_history(history[:-1])
        return history[-2]

    def prune(self, keep: int, *, dry_run: bool = False) -> list[str]:
        """Remove all but the newest `keep` versions (the active one always stays), and take them
        out of the history so that no rollback reaches for one; return what goes."""
        active = self.active_version()
        gone = [v for v in self.versions()[: max(0, len(self.versions()) - keep)] if v != active]
        if gone and not dry_run:
            self._write_history([v for v in self._history() if v not in gone])
            for version in gone:
                shutil.rmtree(self.root / version)
        return gone

    # -- reading ---------------------------------------------------------------------------
    def versions(self) -> list[str]:
        """All stored versions, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if not p.name.startswith(".") and (p / METADATA_FILE).is_file()
        )

    def active_version(self) -> str | None:
        history = self._history()
        return history[-1] if history else None

    def metadata(self, version: str) -> dict[str, Any]:
        path = self.root / version / METADATA_FILE
        try:
            metadata = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{path}: no such model version {version!r}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ModelError(f"{path}: unreadable metadata ({error})") from None
        if not isinstance(metadata, dict):
            raise ModelError(f"{path}: metadata is not a JSON object")
        return metadata

    def metrics(self, version: str) -> dict[str, Any]:
        return dict(self.metadata(version).get("metrics") or {})

    def load(
        self, version: str | None = None, *, expected_labels: Mapping[str, Sequence[str]] | None = None
    ) -> TriageModel:
        """The model of `version` (default: the active one), checked before it is trusted.

        Refuses (ModelError) a model saved in another model format or with another
        scikit-learn version, a model file that is not the one its metadata describes, one
        holding types the estimators are not made of, and one whose label set for a target
        differs from `expected_labels`.
        """
        import sklearn
        import skops.io

        from classifiers.estimator import QuestionClassifier
        from classifiers.model import TriageModel, trusted_types

        version = version or self.active_version()
        if version is None:
            raise ModelError(f"{self.root / ACTIVE_FILE}: no active model; train one first")
        metadata = self.metadata(version)
        metadata_path = self.root / version / METADATA_FILE
        model_path = self.root / version / MODEL_FILE
        if metadata.get("model_format") != MODEL_FORMAT:
            raise ModelError(
                f"{metadata_path}: model format {metadata.get('model_format', 1)}, this version of bvhk-triage "
                f"reads format {MODEL_FORMAT}; train again"
            )
        saved_with = metadata.get("sklearn_version")
        if saved_with != sklearn.__version__:
            raise ModelError(
                f"{metadata_path}: saved with scikit-learn {saved_with}, this is {sklearn.__version__}; train again"
            )
        labels = metadata.get("labels") or {}
        for target, expected in (expected_labels or {}).items():
            self._check_labels(metadata_path, target, set(expected), labels.get(target))
        if not model_path.is_file():
            raise ModelError(f"{model_path}: model file missing")
        if _sha256(model_path) != metadata.get("model_sha256"):
            raise ModelError(f"{model_path}: file differs from the one its metadata describes (sha256)")
        try:
            estimators = skops.io.load(model_path, trusted=trusted_types())
        except Exception as error:  # skops raises several kinds; all mean "not loadable"
            raise ModelError(f"{model_path}: cannot load: {' '.join(str(error).split())}") from None
        classes = metadata.get("classes") or {}
        if not isinstance(estimators, dict) or not all(
            isinstance(e, QuestionClassifier) and [str(c) for c in getattr(e, "classes_", ())] == classes.get(t)
            for t, e in estimators.items()
        ):
            raise ModelError(f"{model_path}: does not hold the fitted estimators its metadata describes")
        return TriageModel(
            estimators=estimators,
            label_sets={target: tuple(values) for target, values in labels.items()},
            n_examples=int(metadata.get("n_examples", 0)),
            data_fingerprint=str(metadata.get("data_fingerprint", "")),
            version=version,
            move_threshold=metadata.get("move_threshold"),
            temperatures={str(t): float(v) for t, v in (metadata.get("temperatures") or {}).items()},
        )

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _check_labels(path: Path, target: str, expected: set[str], stored: list[str] | None) -> None:
        if stored is None:
            raise ModelError(f"{path}: the model has no {target} classifier, expected labels {sorted(expected)}")
        missing, extra = sorted(expected - set(stored)), sorted(set(stored) - expected)
        if missing or extra:
            parts = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unexpected {', '.join(extra)}"] * bool(extra)
            raise ModelError(f"{path}: {target} label set differs: {'; '.join(parts)}; train again")

    def _free_version(self, base: str) -> str:
        version, n = base, 1
        while (self.root / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def _history(self) -> list[str]:
        path = self.root / ACTIVE_FILE
        try:
            history = json.loads(path.read_text("utf-8"))["history"]
        except FileNotFoundError:
            return []
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            raise ModelError(f"{path}: unreadable; expected {{\"history\": [versions]}}") from None
        return [str(v) for v in history]

    def _write_history(self, history: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{ACTIVE_FILE}.", dir=self.root)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({"history": history}, file, indent=2)
            file.write("\n")
        os.replace(name, self.root / ACTIVE_FILE)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
