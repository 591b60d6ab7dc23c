"""StudyMirror: a staging folder and its stored copy kept equal, in the store's commit order
(here the stored copy is a second local folder, so every step can be watched)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import maestro
from maestro.store.compact import compact
from maestro.store.location import Location
from maestro.store.mirror import StudyMirror, _upload_order

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import build_study  # noqa: E402 - after the sys.path insert


@pytest.mark.parametrize(
    "rel, rank",
    [
        pytest.param("compacted/gen-000002/spans-00000.parquet", 0, id="generation-file"),
        pytest.param("compacted/CURRENT.json", 1, id="manifest"),
        pytest.param("runs.parquet", 2, id="run-index"),
        pytest.param("study.json", 3, id="study-info"),
        pytest.param("history/runs.parquet", 3, id="history"),
        pytest.param("spans/r1.parquet", 4, id="per-run-file"),
        pytest.param("runlog/r1.json", 5, id="run-record"),
    ],
)
def test_upload_order_follows_the_commit_order(rel, rank):
    assert _upload_order(rel) == rank


class _Recording:
    """A Location whose uploads and deletes are noted in order."""

    def __init__(self, loc: Location):
        self.loc, self.log = loc, []

    def __getattr__(self, name):
        return getattr(self.loc, name)

    def upload(self, local, path):
        self.log.append(("upload", path[len(self.loc.root) + 1:]))
        self.loc.upload(local, path)

    def delete(self, path):
        self.log.append(("delete", path[len(self.loc.root) + 1:]))
        self.loc.delete(path)


def test_push_uploads_what_changed_before_deleting_what_compaction_replaced(tmp_path):
    staging = build_study(tmp_path / "staging", 6)
    remote = _Recording(Location.of(tmp_path / "stored" / staging.study_id))
    mirror = StudyMirror(remote, staging.root)  # type: ignore[arg-type]
    assert mirror.push() == (len(remote.log), 0)
    first = {rel for _, rel in remote.log}
    assert "study.json" in first and sum(r.startswith("spans/") for r in first) == 6
    assert sum(r.startswith("runlog/") for r in first) == 6  # run records, not yet folded
    remote.log.clear()
    assert mirror.push() == (0, 0)  # nothing changed: nothing sent

    compact(staging.root, force=True)
    uploaded, deleted = mirror.push()
    kinds = [kind for kind, _ in remote.log]
    assert kinds == sorted(kinds, key=lambda k: k == "delete")  # every upload before any delete
    ranks = [_upload_order(rel) for kind, rel in remote.log if kind == "upload"]
    assert ranks == sorted(ranks) and ranks[:2] == [0, 0]  # generation, then its manifest, then the index
    assert {rel for kind, rel in remote.log if kind == "delete"} >= {f"spans/{r}.parquet" for r in staging_runs(staging)}
    assert deleted == sum(k == "delete" for k in kinds) and uploaded == len(ranks)

    local, stored = maestro.load_study(staging.root), maestro.load_study(remote.loc.uri)
    assert stored.spans.sort_values(["run_id", "start_time_ns"]).span_id.tolist() == \
        local.spans.sort_values(["run_id", "start_time_ns"]).span_id.tolist()


def staging_runs(layout) -> list[str]:
    return sorted(maestro.load_study(layout.root, spans=False, resources=False).runs.run_id)


def test_pull_fills_an_empty_staging_folder_with_the_stored_study(tmp_path):
    stored = build_study(tmp_path / "stored", 4)
    staging = tmp_path / "staging" / stored.study_id
    staging.mkdir(parents=True)
    mirror = StudyMirror(Location.of(stored.root), staging)
    assert mirror.pull() == len([p for p in stored.root.rglob("*") if p.is_file()])
    assert maestro.load_study(staging).runs.run_id.tolist() == maestro.load_study(stored.root).runs.run_id.tolist()
    assert mirror.push() == (0, 0)  # what was pulled counts as in step
