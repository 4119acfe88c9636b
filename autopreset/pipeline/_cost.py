"""The cost model: seconds per epoch of a config, from speeds measured on this machine.

An epoch of config c costs ``n_train / train_ips(backbone, batch) + n_val / eval_ips(backbone)
+ epoch_overhead_s``; each job (a trial started or resumed) adds ``job_overhead_s`` (building the
model, loading the cached images, restoring the checkpoint). Training throughput is measured at
one batch size; smaller batches use the CPU less well, which ``batch_factor`` models
(throughput x (batch / ref) ** 0.25 below the reference, flat above it). The model is plain
data (JSON), so plans and simulated tests can use it without torch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["CostModel", "measure_cost_model"]


@dataclass(frozen=True)
class CostModel:
    n_train: int
    n_val: int
    train_ips: dict[str, float]
    eval_ips: dict[str, float]
    ref_batch: int = 64
    job_overhead_s: float = 1.0
    epoch_overhead_s: float = 0.2
    notes: list[str] = field(default_factory=list)

    def batch_factor(self, batch_size: int) -> float:
        return min(1.0, (max(1, int(batch_size)) / self.ref_batch) ** 0.25)

    def epoch_seconds(self, config: dict) -> float:
        name = config["backbone"]
        if name not in self.train_ips:
            raise ValueError(f"cost model has no measurement for backbone {name!r}")
        ips = self.train_ips[name] * self.batch_factor(config.get("batch_size", self.ref_batch))
        steps_imgs = (self.n_train // max(1, min(int(config.get("batch_size", 64)), self.n_train))
                      ) * min(int(config.get("batch_size", 64)), self.n_train)
        return steps_imgs / ips + self.n_val / self.eval_ips[name] + self.epoch_overhead_s

    def trial_seconds(self, config: dict, epochs: int, jobs: int = 1) -> float:
        return epochs * self.epoch_seconds(config) + jobs * self.job_overhead_s

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict) -> "CostModel":
        return cls(**obj)


def measure_cost_model(backbones, prepared, *, device: str = "cpu", batch_size: int = 64,
                       threads: int | None = None, resolution: int | None = None) -> CostModel:
    """Measure every backbone's training and evaluation speed at the working resolution (or at
    ``resolution``: the size a lower-fidelity epoch trains at; a job still loads the cache at
    the working one)."""
    from autopreset.backbones import measure_train_speed

    speeds = measure_train_speed(list(backbones), resolution or prepared.resolution,
                                 batch_size=batch_size,
                                 n_classes=len(prepared.dataset.classes), device=device,
                                 threads=threads)
    # a job builds the model, copies the train/val images into tensors and restores a checkpoint
    data_s = (prepared.n_train + prepared.n_val) * prepared.resolution ** 2 * 3 / 400e6
    build = max(s.build_s for s in speeds.values())
    return CostModel(n_train=prepared.n_train, n_val=prepared.n_val,
                     train_ips={n: s.train_ips for n, s in speeds.items()},
                     eval_ips={n: s.eval_ips for n, s in speeds.items()}, ref_batch=batch_size,
                     job_overhead_s=0.5 + 2 * build + data_s, epoch_overhead_s=0.2)
