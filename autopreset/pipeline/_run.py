"""One fit as an object whose steps read and write typed state (shared/DESIGN.md, "Inside fit").

    run = FitRun(FitOptions(data="photos/", prefer="latency"), Budget("10m"))
    predictor = run.run()          # = setup(); plan(); search(); refit(); finish()

- :meth:`FitRun.setup`: the run folder (or the run to resume), locked for this process before
  anything else, the preset, the data read the task type's way, split and cached (on
  ``--resume``, checked against the run's), the objective, and the executor (workers start here
  and finish starting while the plan is measured);
- :meth:`FitRun.plan`: each candidate backbone's latency on the serving device, the preference,
  the training-speed cost model, the flip check, and the phases (:class:`FitPlan`); all of it
  goes to ``run.json`` as one :class:`RunState` (on ``--resume`` it is read back instead);
- :meth:`FitRun.search`: one tuner run of the portfolio-then-Hyperband scheduler;
- :meth:`FitRun.refit`: the best config on train+validation when the plan kept time for it;
- :meth:`FitRun.finish`: the model folder, leaderboard, report, preset card, pruned weights.

Only the :class:`Budget` answers how much time a step has. SIGINT and SIGTERM end any step the
same way (:class:`~autopreset.errors.Interrupted`; the search stops at its next safe point).
"""
from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from autopreset._faults import fault_point, mark_main_process
from autopreset._signals import RaiseOnSignals, SignalReceived
from autopreset.errors import DiskFull, InputError, Interrupted, RunError, is_disk_full

from ._budget import Budget, process_age
from ._options import FitOptions
from ._state import RunState

SETUP_SHARE = 0.2       # of the time left when the data is read: latency, speed and flip checks

__all__ = ["FitRun"]


class FitRun:
    """A fit in progress: options and budget in, typed state out of each step."""

    DEFAULT_BUDGET = "10m"

    def __init__(self, options: FitOptions, budget: Budget | None = None):
        """``budget`` None: 10 minutes for a new run, the run's own on ``--resume`` (a Budget
        given to a resume sets the run's new total)."""
        from ._progress import Progress

        self.budget_given = budget is not None
        self.options = options
        self.budget = budget if budget is not None else Budget(self.DEFAULT_BUDGET)
        self.lock = None                          # this process's hold on the run folder
        self.progress = Progress(self.budget, enabled=options.progress, worker_logs=True)
        self.curves = None                        # --tensorboard: the trials' curves
        self.folder: Path | None = None
        self.state: RunState | None = None       # the plan and what it was made from
        self.resumed = False
        self.preset = self.data = self.objective = None
        self.executor = self.client = None
        self.result = self.scheduler = self.picked = self.pruner = None
        self.refit_dir: Path | None = None
        self.weights: dict[str, str] = {}        # backbone -> the weights file it starts from
        self.weights_from: str | None = None     # --weights: the folder, or "hub"
        self.resolution_choice = None            # the input size chosen from images and budget
        self.fidelity_choice = None              # a cheaper first rung, if the cost model says

    def say(self, text: str) -> None:
        self.progress.say(text)

    # ------------------------------------------------------------------ the whole run
    def run(self):
        """Every step in order; the Predictor, or None with ``plan_only``. A SIGINT or SIGTERM
        outside the search (which stops at its next safe point) ends the run at once; either way
        :class:`Interrupted` says whether ``--resume`` can continue it."""
        with RaiseOnSignals():
            try:
                self.setup()
                if self.options.plan_only and self.resumed:    # --resume --plan
                    from ._resume import resumed_plan

                    print(resumed_plan(self))
                    return None
                self.plan()
                if self.options.plan_only:
                    print(self.state.plan.describe())
                    return None
                self.search()
                self.refit()
                return self.finish()
            except SignalReceived as exc:
                raise self.interrupted(exc.signal_name) from None
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                hint = " and resume it with --resume" if self.folder is not None else ""
                raise DiskFull(f"disk full: {exc}; free some space{hint}") from None
            finally:
                self.close()

    def close(self) -> None:
        try:
            self.progress.shutdown()
            if self.curves is not None:
                self.curves.close()
            if self.executor is not None:
                self.executor.close()
            if self.client is not None:
                self.client.close()
            self.executor = self.client = None
        finally:        # last, whatever happened: the run folder is free (a failed start: gone)
            if self.lock is not None:
                self.lock.release()
                self.lock = None

    # ------------------------------------------------------------------ 1. set-up
    def setup(self) -> None:
        """Run folder, resumed state, preset, data, objective and executor.

        The run folder is locked first (one fit per folder: a second one is refused before it
        reads or writes anything there). ``--resume`` checks the data against the run's
        fingerprint: changed data is refused, or with ``on_data_change="restart"`` the old run
        is discarded and the search starts afresh in that folder."""
        from ._runfolder import find_run, open_run_folder

        opt = self.options
        self.budget.charge(process_age())
        self.progress.start_phase("set-up")
        if opt.plan_only and opt.resume:         # --resume --plan only reads the run
            self.folder = find_run(opt.out)
            self.state, self.resumed = self._read_state(), True
            return
        if not opt.plan_only:
            self.folder, self.lock = open_run_folder(opt.out, resume=opt.resume)
            mark_main_process()               # (fault injection: workers know whom to kill)
            fault_point("setup")
        from ._data import prepare_data
        from ._resume import restart, resume
        from autopreset.executors import make_executor, worker_threads

        saved = self.state = self._read_state() if opt.resume else None
        self.preset = self._load_preset()
        n_workers = saved.plan.n_workers if saved else _n_workers(opt.workers, opt.dask)
        threads = worker_threads(n_workers, opt.dask)
        if threads is not None:          # measure speeds as the workers will train
            import torch

            torch.set_num_threads(threads)
        self.n_workers, self.device = n_workers, saved.device if saved else _device(opt.device)
        self.threads = threads
        self.data = prepare_data(opt.data, seed=saved.seed if saved else opt.seed, task=opt.task,
                                 resolution=saved.resolution if saved else opt.resolution,
                                 chooser=self.resolution_chooser(threads),
                                 progress=self.progress.data if opt.progress else None)
        if saved is not None:
            change = saved.data_change(self.data.dataset)
            if change is None:
                resume(self, saved)
            else:
                restart(self, saved, change)
        if self.resolution_choice is not None:
            self.say(self.resolution_choice.describe())
        self.say(f"data: {self.data.describe()} ({self.budget.elapsed():.1f}s)")
        self.objective = self._objective(threads)
        if not opt.plan_only:           # (local workers start while the plan is measured)
            self.executor, self.client = make_executor(n_workers, opt.dask, self.objective)

    def resolution_chooser(self, threads):
        """``chooser(paths) -> px`` for :func:`prepare_data`: the budget-aware choice
        (:func:`~._resolution.choose_resolution`) for the preset's first portfolio backbones,
        recorded in :attr:`resolution_choice`."""
        from ._resolution import choose_resolution

        def chooser(paths) -> int:
            val = 0.2
            n = len(paths)
            self.resolution_choice = choose_resolution(
                paths, search_s=self.budget.for_search() * (1 - SETUP_SHARE),
                n_train=max(1, round(n * (1 - val))), n_val=max(1, round(n * val)),
                backbones=[e.config["backbone"] for e in self.preset.portfolio],
                eta=self.preset.hyperband.eta, n_workers=self.n_workers, device=self.device,
                threads=threads, random_state=self.options.seed)
            return self.resolution_choice.resolution

        return chooser

    def _read_state(self) -> RunState:
        from ._runfolder import RUN_FILE, read_json

        path = self.folder / RUN_FILE
        return RunState.from_json(read_json(path), source=str(path))

    def _load_preset(self):
        from autopreset.portfolio import Preset, load_preset

        if self.state is not None:         # (its preset holds the fine-tuning configs too)
            self.weights = dict(self.state.plan.weights)
            self.weights_from = self.state.plan.weights_from
            return Preset.from_json(self.state.preset)
        try:
            preset = load_preset(self.options.preset)
        except FileNotFoundError as exc:
            raise InputError(f"--preset {self.options.preset!r}: {exc}") from None
        self.weights, self.weights_from = {}, self.options.weights
        if self.options.weights is None:
            return preset
        from ._weights import prepare_weights

        found, preset = prepare_weights(self.options.weights, preset, say=self.say)
        self.weights = dict(found.files)
        return preset

    def _objective(self, threads):
        from autopreset.training import TrainingTask

        from ._objective import BudgetedObjective

        d = self.data
        return BudgetedObjective(TrainingTask(
            cache=d.cache, labels=d.dataset.labels, train_idx=d.train_idx, val_idx=d.val_idx,
            classes=tuple(d.dataset.classes), task_type=d.kind.name, device=self.device,
            threads=threads, weights=dict(self.weights)))

    # ------------------------------------------------------------------ 2. plan
    def plan(self) -> None:
        """Measure the cost model and the preference, plan the phases, write run.json."""
        from ._data import mirror_check
        from ._runfolder import RUN_FILE, create_run_folder, write_json

        self.progress.start_phase("plan")
        if self.state is None:
            opt, d, budget = self.options, self.data, self.budget
            pref = self._preference()
            self.say(f"{pref.describe()} ({budget.elapsed():.1f}s)")
            cost, plan, fidelity_note = self._plan_with_fidelity(self._allowed_configs(pref))
            mirror = mirror_check(d, random_state=opt.seed)
            self.say(f"{mirror.describe()} ({budget.elapsed():.1f}s)")
            choice = self.resolution_choice
            notes = [choice.describe()] if choice is not None else (
                [f"resolution: {d.resolution}px, set with --resolution"]
                if opt.resolution is not None else [])
            notes.append(fidelity_note)
            hb = self.preset.hyperband
            if (hb.proposals, hb.inner) != ("random", "hyperband"):
                notes.append(f"after the portfolio: {hb.inner.replace('_', ' ')} with "
                             f"{hb.proposals} proposals over the narrowed space (preset "
                             f"{self.preset.name!r})")
            plan = dataclasses.replace(plan, flip=mirror.flip, weights=dict(self.weights),
                                       weights_from=self.weights_from, notes=notes + plan.notes)
            self.state = RunState(
                data=str(Path(opt.data).resolve()), fingerprint=d.dataset.fingerprint,
                budget_s=budget.total_s, prefer=opt.prefer, max_latency_ms=opt.max_latency_ms,
                seed=opt.seed, resolution=d.resolution, device=self.device,
                latency_device=opt.latency_device, setup_s=budget.elapsed(),
                preset=self.preset.to_json(), preference=pref, cost=cost, plan=plan,
                mirror_check=mirror.to_json(), task=d.kind.name, n_images=len(d.dataset),
                class_counts=d.dataset.class_counts())
            if opt.plan_only:
                return
            create_run_folder(self.folder, default=opt.out is None and not opt.resume)
            write_json(self.folder / RUN_FILE, self.state.to_json())
        self.say(f"{self.state.plan.describe()}\n  (planned after {self.budget.elapsed():.1f}s "
                 "of setup)")
        self.budget.setup_done()

    def _fidelity_choice(self, plan, cost):
        """Whether the first rung trains on fewer images or smaller inputs (the cost model
        decides, from a plan at full cost: :func:`~._fidelity.choose_fidelity`)."""
        from ._fidelity import FidelityChoice, choose_fidelity
        from ._resolution import _measure

        if self.options.fidelity == "full":
            return FidelityChoice(reason="full throughout (--fidelity full)")
        return choose_fidelity(plan, cost, resolution=self.data.resolution,
                               measure=_measure(device=self.device, threads=self.threads,
                                                n_classes=len(self.data.dataset.classes)))

    def _plan_with_fidelity(self, allowed):
        """(cost, plan, note) for the ``allowed`` configs: with a cheaper first rung when the
        preference's reach plan chose one (or, without a preference stage, this plan does) and
        this plan keeps epochs after that rung; in tail mode when even so the plan affords no
        Hyperband pass and a search at a smaller size does (:meth:`_tail`); else at full
        fidelity throughout."""
        full_cost, full_plan = cost, plan = self._measure_and_plan(allowed)
        choice = self.fidelity_choice
        if choice is None or choice.tail:        # tail mode is re-derived for these configs
            choice = self._fidelity_choice(plan, cost)
        note = choice.describe()
        if choice.reduced:
            c, p = self._measure_and_plan(allowed, first_rung_cost=choice.ratio)
            if p.min_resource < p.max_resource:
                cost, plan = c, dataclasses.replace(p, fidelity=choice.schedule(p.min_resource),
                                                    first_rung_cost=choice.ratio)
                note = choice.describe(plan.min_resource)
            else:
                note = (f"fidelity: full throughout ({choice.reason}, but even with a cheaper "
                        "first rung the plan trains no epoch past it)")
        if plan.hyperband is None:
            tail = self._tail(full_plan, full_cost, allowed)
            if tail is not None:
                choice, cost, plan = tail
                note = choice.describe()
        return cost, plan, note

    def _tail(self, plan, cost, configs):
        """Tail mode (:func:`~._fidelity.choose_tail`) for ``plan`` over ``configs``: (choice,
        cost model at the smaller size, plan whose trials carry the tail schedule), or None."""
        from ._fidelity import choose_tail

        if self.options.fidelity == "full":
            return None

        def plan_at(px, extra_s):
            return self._measure_and_plan(configs, resolution=px, extra_s=extra_s)

        found = choose_tail(plan, cost, resolution=self.data.resolution, plan_at=plan_at)
        if found is None:
            return None
        choice, low, tailed = found
        return choice, low, dataclasses.replace(tailed, fidelity=choice.schedule(0),
                                                first_rung_cost=1.0)

    def _preference(self):
        """Latencies of every portfolio backbone, then the preference among those the budget
        reaches: the backbones of the configs a plan over the whole portfolio would run (at 4 h
        on MNIST-5k all of them, resnet50-class included; at 5 minutes the first twelve)."""
        from ._preference import choose_backbones, measure_latencies

        opt, budget = self.options, self.budget
        latency = measure_latencies(self.preset, self.data.resolution, opt.latency_device,
                                    seconds=min(10.0, 0.04 * budget.total_s), say=self.say)
        fault_point("latency")
        every = [dict(e.config) for e in self.preset.portfolio if e.config["backbone"] in latency]
        cost, reach = self._measure_and_plan(every)
        self.fidelity_choice = choice = self._fidelity_choice(reach, cost)
        if choice.reduced:           # a cheaper first rung reaches more configs
            _, reach = self._measure_and_plan(every, first_rung_cost=choice.ratio)
        tail = self._tail(reach, cost, every) if reach.hyperband is None else None
        if tail is not None:         # so does a search at a smaller size
            self.fidelity_choice, _, reach = tail
        reached = {c["backbone"] for c in reach.portfolio}
        beyond = [n for n in latency if n not in reached]
        if beyond:
            self.say(f"beyond this budget's reach: {', '.join(beyond)}")
        return choose_backbones({n: v for n, v in latency.items() if n in reached}, opt.prefer,
                                opt.max_latency_ms, device=opt.latency_device)

    def _allowed_configs(self, pref) -> list[dict]:
        allowed = [dict(e.config) for e in self.preset.portfolio if pref.allows(e.config["backbone"])]
        if not allowed:
            raise InputError(f"no config of preset {self.preset.name!r} uses an allowed backbone "
                             f"({', '.join(pref.allowed)})")
        return allowed

    def _measure_and_plan(self, allowed: list[dict], first_rung_cost: float = 1.0, *,
                          resolution: int | None = None, extra_s: float = 0.0):
        """(cost model, plan) for the ``allowed`` configs (in portfolio order): training speeds
        are measured for a prefix, grown by one config while the plan would run all of it, so a
        short budget does not pay to measure the large backbones at the end it cannot reach
        (speeds are cached per machine: a prefix measured once is read back at once).
        ``resolution``: epochs at that size (tail mode); ``extra_s``: seconds set aside."""
        from ._cost import measure_cost_model

        k = min(len(allowed), 8)
        while True:
            part = allowed[:k]
            cost = measure_cost_model(dict.fromkeys(c["backbone"] for c in part), self.data,
                                      device=self.device, threads=self.objective.task.threads,
                                      resolution=resolution)
            plan = self._make_plan(cost, part, first_rung_cost, extra_s)
            if len(plan.portfolio) < k or k == len(allowed):
                return cost, plan
            k += 1

    def _make_plan(self, cost, allowed, first_rung_cost: float = 1.0, extra_s: float = 0.0):
        from ._plan import make_plan

        hb, budget = self.preset.hyperband, self.budget
        return make_plan(budget_s=budget.total_s, left_s=budget.for_plan() - extra_s,
                         reserve_s=budget.reserve_s, cost=cost, portfolio=allowed,
                         n_workers=self.n_workers, eta=hb.eta, max_resource_cap=hb.max_resource,
                         crop_in_configs="crop_scale" in self.preset.space,
                         first_rung_cost=first_rung_cost)

    # ------------------------------------------------------------------ 3. search
    def search(self) -> None:
        """The tuner runs the portfolio-then-Hyperband scheduler until the search's share of
        the budget is spent; its trials' weights go as soon as the pick can no longer use them.
        Ends with the pick (:func:`pick_best`): which trial's checkpoint becomes the model."""
        from autopreset.schedulers import PortfolioHyperband
        from autopreset.tuner import Tuner

        from ._pick import WeightPruner, pick_best
        from ._runfolder import journal_spent

        st, opt = self.state, self.options
        hb = self.preset.hyperband           # what runs after the portfolio: the preset says
        self.scheduler = PortfolioHyperband(space=self.preset.space, plan=st.plan.schedule(),
                                            allowed=set(st.preference.allowed), mode=self.data.kind.mode,
                                            random_state=st.seed, proposals=hb.proposals,
                                            inner=hb.inner)
        spent_before = journal_spent(self.folder) if self.resumed else 0.0
        self.progress.scheduler = self.scheduler
        on_event = self.progress.on_event
        if opt.tensorboard_dir is not None:
            from ._tensorboard import TrialCurves

            self.curves = curves = TrialCurves(opt.tensorboard_dir)

            def on_event(event, show=self.progress.on_event):
                show(event)
                curves.on_event(event)
        self.pruner = None if opt.keep_checkpoints else WeightPruner(self.data.n_val, self._fast_first())
        tuner = Tuner(self.objective, self.scheduler, executor=self.executor,
                      budget_s=spent_before + self.budget.for_search(st.plan.refit_s),
                      run_dir=self.folder, resume=self.resumed, seed=st.seed,
                      on_event=on_event, on_retire=self.pruner)
        self.result = tuner.run()
        self.check_interrupted(self.result)
        self.picked = pick_best(self.result, self.data.n_val, self._fast_first())

    def _fast_first(self):
        """Backbone latencies when the final pick should favour speed (``--prefer latency``)."""
        pref = self.state.preference
        return dict(pref.latency_ms) if pref.prefer == "latency" else None

    def check_interrupted(self, result) -> None:
        signal_name = getattr(result, "interrupted", None)
        if signal_name:
            raise self.interrupted(signal_name)

    def interrupted(self, signal_name: str | None) -> Interrupted:
        """The error a signal ends the run with: how to continue it, when there is a run."""
        from ._runfolder import RUN_FILE

        self.progress.close()
        if self.folder is None or self.options.plan_only or not (self.folder / RUN_FILE).is_file():
            by = f" by {signal_name}" if signal_name not in (None, "SIGINT") else ""
            return Interrupted(f"interrupted{by} before the run started: nothing to resume",
                               signal_name=signal_name)
        hint = (f"autopreset fit {shlex.quote(str(self.options.data))} "
                f"--out {shlex.quote(str(self.folder))} --resume")
        return Interrupted(run_dir=self.folder, resume_hint=hint, signal_name=signal_name)

    # ------------------------------------------------------------------ 4. refit
    def refit(self) -> None:
        """Train the picked config on train+validation when the plan kept time for it."""
        from ._refit import refit

        best = self.picked[0] if self.picked else None
        self.refit_dir = refit(self, best)

    # ------------------------------------------------------------------ 5. finish
    def finish(self):
        """Save the model and the run's outputs; the Predictor."""
        from ._finish import finish

        if self.picked is None:
            reasons = "; ".join(sorted({t.reason for t in self.result.trials if t.reason}))[:300]
            raise RunError(f"no trial finished an epoch within the budget of "
                           f"{self.budget.total_s:.0f}s ({reasons or 'no trials ran'}); "
                           "give a larger --budget (with --resume, it continues this run)")
        self.progress.start_phase("finish")
        return finish(self)


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _n_workers(workers: int, dask: str | None) -> int:
    if dask is None:
        return workers
    from distributed import Client

    with Client(dask, timeout=10) as client:
        return max(1, sum(client.nthreads().values()))
