"""Trained models on disk: one folder per version, one of them active, rollback to the one before.

    <root>/<version>/model.skops      the fitted estimator per target (skops, never pickle)
    <root>/<version>/scorer.npz       the same, as the arrays a prediction needs (`classifiers.predictor`)
    <root>/<version>/metadata.json    model format, versions, label sets, data fingerprint, metrics
    <root>/active.json                {"history": [..., previous, active]}

A version is published by renaming a finished folder into place, and the active pointer is
replaced atomically, so a reader never sees half a model. scikit-learn and skops are imported
where a model is written or read whole (`load`: to train against, to calibrate), not to list
versions nor to predict: `load_predictor` reads the scorer, with numpy alone, which is what
the worker and `classify` need (importing scikit-learn and skops took longer than the rest of
a `classify` command).
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
    from classifiers.predictor import Predictor

__all__ = ["ModelError", "ModelStore"]

MODEL_FILE = "model.skops"
SCORER_FILE = "scorer.npz"
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
        model.scorer().save(staging / SCORER_FILE)
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
            "scorer_sha256": _sha256(staging / SCORER_FILE),
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
        import skops.io

        from classifiers.estimator import QuestionClassifier
        from classifiers.model import TriageModel, trusted_types

        version, metadata = self._checked(version, expected_labels)
        model_path = self.root / version / MODEL_FILE
        self._check_file(model_path, metadata.get("model_sha256"))
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
        return TriageModel(estimators=estimators, **self._described(version, metadata))

    def load_predictor(
        self, version: str | None = None, *, expected_labels: Mapping[str, Sequence[str]] | None = None
    ) -> Predictor | TriageModel:
        """The model of `version` (default: the active one) for prediction only: its scorer,
        checked as `load` checks the model file, read without scikit-learn or skops. A version
        saved before scorers were stored is loaded whole (`load`)."""
        from classifiers.predictor import Predictor, Scorer

        version, metadata = self._checked(version, expected_labels)
        if "scorer_sha256" not in metadata:
            return self.load(version, expected_labels=expected_labels)
        path = self.root / version / SCORER_FILE
        self._check_file(path, metadata["scorer_sha256"])
        try:
            scorer = Scorer.load(path)
        except (ValueError, KeyError, OSError) as error:
            raise ModelError(f"{path}: cannot load: {' '.join(str(error).split())}") from None
        classes = metadata.get("classes") or {}
        if {target: head.classes for target, head in scorer.heads.items()} != classes:
            raise ModelError(f"{path}: does not hold the classifiers its metadata describes")
        return Predictor(scorer=scorer, **self._described(version, metadata))

    def check_model_file(self, version: str) -> None:
        """Refuse (ModelError) a version whose model.skops is not the one its metadata
        describes, without loading it (`load_predictor` checks the scorer it reads)."""
        self._check_file(self.root / version / MODEL_FILE, self.metadata(version).get("model_sha256"))

    def _checked(self, version: str | None, expected_labels: Mapping[str, Sequence[str]] | None
                 ) -> tuple[str, dict[str, Any]]:
        """The version asked for (or the active one) and its metadata, refused (ModelError)
        when saved in another model format or with another scikit-learn, or when a label set
        differs from `expected_labels`."""
        from importlib.metadata import version as installed  # not `import sklearn`: a second

        version = version or self.active_version()
        if version is None:
            raise ModelError(f"{self.root / ACTIVE_FILE}: no active model; train one first")
        metadata = self.metadata(version)
        metadata_path = self.root / version / METADATA_FILE
        if metadata.get("model_format") != MODEL_FORMAT:
            raise ModelError(
                f"{metadata_path}: model format {metadata.get('model_format', 1)}, this version of bvhk-triage "
                f"reads format {MODEL_FORMAT}; train again"
            )
        saved_with, this = metadata.get("sklearn_version"), installed("scikit-learn")
        if saved_with != this:
            raise ModelError(f"{metadata_path}: saved with scikit-learn {saved_with}, this is {this}; train again")
        labels = metadata.get("labels") or {}
        for target, expected in (expected_labels or {}).items():
            self._check_labels(metadata_path, target, set(expected), labels.get(target))
        return version, metadata

    @staticmethod
    def _check_file(path: Path, sha256: str | None) -> None:
        if not path.is_file():
            raise ModelError(f"{path}: model file missing")
        if _sha256(path) != sha256:
            raise ModelError(f"{path}: file differs from the one its metadata describes (sha256)")

    @staticmethod
    def _described(version: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """What the metadata tells of a model besides its estimators."""
        return dict(
            label_sets={target: tuple(values) for target, values in (metadata.get("labels") or {}).items()},
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
