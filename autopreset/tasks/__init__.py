"""Task types: what one kind of supervised image task provides to the pipeline and trainer.

A task type says how a folder is read and split, which head the backbone gets, the training
loss, the validation metric (the one number the tuner and schedulers optimize), what
``predict`` returns and what the saved model records. Classification is the first; another
kind (detection, regression) plugs in by implementing :class:`TaskType` and registering it.
The tuner, the schedulers and the budget never see a task type: they see a metric and a mode.

    from autopreset.tasks import get_task
    kind = get_task("classification")
    ds = kind.read("photos/")
    train_idx, val_idx = kind.split(ds, val_fraction=0.2, random_state=0)
"""
from ._base import TaskType, get_task, register_task, task_names
from ._classification import Classification

__all__ = ["TaskType", "Classification", "get_task", "register_task", "task_names"]
