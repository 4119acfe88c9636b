"""Run in a fresh process by the resume test: continue a paused trial from its checkpoint."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from trainer_data import CONFIG, make_task  # noqa: E402

from autopreset.training import RecordingReporter  # noqa: E402

data_dir, cache_dir, ckpt_dir, target, out = sys.argv[1:6]
_, task = make_task(Path(data_dir), Path(cache_dir))
reporter = RecordingReporter(checkpoint_dir=ckpt_dir, max_resource=3,
                             target_resource=int(target), seed=11)
task(dict(CONFIG), reporter)
Path(out).write_text(json.dumps(reporter.results))
