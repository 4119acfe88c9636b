"""One reporter protocol: the executors' reporter, the trainer's RecordingReporter and any
object with the same members satisfy it; the simulator's benchmarks run under each."""
from pathlib import Path

from autopreset.executors import Job, JobReporter, Reporter
from autopreset.reporting import Reporter as SameReporter
from autopreset.simulator import SyneTuneCurves


class _Minimal:
    """A hand-written reporter (a script's own): the protocol's members, nothing more."""

    def __init__(self, folder):
        self.trial_id, self.checkpoint_dir, self.seed = 0, Path(folder), 0
        self.max_resource = self.target_resource = 3
        self.results = []

    def report(self, resource, metric, **extra):
        self.results.append((resource, metric))
        return True


def test_every_reporter_satisfies_the_protocol(tmp_path):
    from autopreset.training import RecordingReporter

    assert Reporter is SameReporter
    sent = []
    job = JobReporter(Job(1, {}, str(tmp_path), target_resource=2, max_resource=3, seed=7), sent.append)
    recording = RecordingReporter(checkpoint_dir=tmp_path, max_resource=3)
    for reporter in (job, recording, _Minimal(tmp_path)):
        assert isinstance(reporter, Reporter)
        for name in ("trial_id", "checkpoint_dir", "max_resource", "target_resource", "seed"):
            assert getattr(reporter, name) is not None
    assert not isinstance(object(), Reporter)


def test_a_benchmark_runs_under_a_hand_written_reporter(tmp_path):
    reporter = _Minimal(tmp_path)
    SyneTuneCurves(max_resource=3)({"width": 1.0, "height": 0.0}, reporter)
    assert [r for r, _ in reporter.results] == [1, 2, 3]
