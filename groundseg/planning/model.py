"""The geometry-free scheduling model (see the package docstring for the semantics).

Build a :class:`Problem` from objects (:class:`Task`, :class:`Alternative`,
:class:`Resource`, :class:`Downlink`, :class:`Incompatibility`) or, for large instances,
from column arrays with :meth:`Problem.from_columns`. Either way the problem is held as
column arrays (documented on :class:`Problem`) that the solvers and the verifier read.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from ._budgets import Budget, attach_budgets, check_uses
from ._downlinks import Downlink, downlinks_from_columns, usable_downlinks
from .agility import as_transition_model, check_on_samples, scalar_transition
from .errors import PlanningError
from .requests import Request, request_columns, same_alternative_pairs

__all__ = ["Alternative", "Task", "Resource", "Downlink", "Incompatibility", "Budget", "Problem"]

_TOL_S = 1e-9


@dataclass(frozen=True, eq=False)
class Alternative:
    """One way to carry out a task.

    ``resource``: index of the resource (satellite) that executes it.
    Timed alternatives give ``earliest_start_s`` and ``latest_end_s`` (seconds from the plan
    epoch) and ``duration_s``; the acquisition starts at some ``s`` with
    ``earliest_start_s <= s`` and ``s + duration_s <= latest_end_s``. Leave both window ends
    ``None`` for an untimed alternative (pure selection, e.g. SPOT5): it takes no time on
    the resource and its data is on board from the epoch.

    ``start_attitude_deg``: ``(roll, pitch)`` at the start of the acquisition; or ``(k, 2)``
    samples at start times ``attitude_times_s`` ``(k,)`` (increasing), linearly
    interpolated (held constant outside); or ``(2, 2)`` without ``attitude_times_s``:
    linear from the earliest start to the latest start. ``end_attitude_deg``: the attitude
    at the end of the acquisition, as a function of the same start time, same shapes;
    ``None`` means equal to the start attitude.

    ``data_gbit``: volume recorded. ``value_factor``: the objective gains
    ``task.weight * value_factor`` when this alternative is chosen. ``label``: free text
    carried to the plan (opportunity id, camera, ...). ``uses``: ``{quantity: amount}`` it
    spends of the problem's budgets (:mod:`~groundseg.planning._budgets`; radar seconds, Wh).
    """

    resource: int = 0
    earliest_start_s: float | None = None
    latest_end_s: float | None = None
    duration_s: float = 0.0
    start_attitude_deg: Any = (0.0, 0.0)
    end_attitude_deg: Any = None
    attitude_times_s: Any = None
    data_gbit: float = 0.0
    value_factor: float = 1.0
    label: str = ""
    uses: Any = None


@dataclass(frozen=True, eq=False)
class Task:
    """Something worth doing once: a target, a strip, a SPOT5 photograph.

    ``id``: unique ``str`` or ``int``. ``weight`` >= 0. ``group``: tasks sharing a group key
    are all scheduled or none (stereo pairs). ``reason_if_none``: the reason reported when
    the task has no usable alternative (default ``"no_opportunity"``; the caller may say
    ``"sun"`` when it filtered out the opportunities for illumination).
    """

    id: str | int
    weight: float
    alternatives: Sequence[Alternative] = ()
    group: Hashable | None = None
    reason_if_none: str = "no_opportunity"


@dataclass(frozen=True)
class Resource:
    """A satellite: on-board memory (``inf`` = unlimited), what is on board at the epoch, and
    its own transition model (``agility``; None: the problem's)."""

    name: str = ""
    memory_capacity_gbit: float = math.inf
    memory_initial_gbit: float = 0.0
    agility: Any = None


@dataclass(frozen=True)
class Incompatibility:
    """A forbidden combination: the alternatives ``(task_id, alternative_index)`` in
    ``members`` must not all be chosen (a SPOT5 forbidden tuple, a shared-resource clash)."""

    members: tuple = field(default_factory=tuple)


def _finite(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) \
        and math.isfinite(float(x))


class Problem:
    """A scheduling problem held as column arrays.

    Tasks (``n_tasks``): ``task_id`` (list), ``task_weight`` (n_tasks,),
    ``task_group`` (n_tasks,) int, -1 = none, ``groups`` (list of int arrays of task
    indices), ``task_reason`` (list of str), ``task_alts`` (list of int arrays of global
    alternative indices).

    Alternatives (``n_alts``): ``alt_task``, ``alt_local`` (index within its task),
    ``alt_resource``, ``alt_timed`` (bool), ``alt_earliest_s``, ``alt_latest_end_s``,
    ``alt_duration_s``, ``alt_latest_start_s``, ``alt_data_gbit``, ``alt_value_factor``,
    ``alt_value`` (= weight * value_factor), ``alt_label`` (list), ``alt_valid`` (bool) and
    ``alt_issue`` (list of ``None`` or why the alternative is unusable, e.g. a window shorter
    than the duration). Attitude samples: ``att_ptr`` (n_alts + 1,), ``att_time_s`` (m,),
    ``att_start_deg`` (m, 2), ``att_end_deg`` (m, 2); alternative ``a`` owns samples
    ``att_ptr[a]:att_ptr[a+1]``.

    Resources (``n_resources``): ``res_name``, ``res_capacity_gbit``, ``res_initial_gbit``.
    Downlinks (``n_downlinks``): ``dl_resource``, ``dl_start_s``, ``dl_end_s``,
    ``dl_rate_gbit_s``, ``dl_station``, ``dl_usable`` (bool; when downlinks of one resource
    overlap, a non-overlapping subset of largest total volume is usable).

    Incompatibilities: ``incompat`` (list of tuples of global alternative indices) and
    ``alt_incompat`` (for each alternative, the incompatibility indices it belongs to).
    Budgets: ``budget_*``, ``alt_budgets`` (:mod:`._budgets`); transition models ``res_agility``.

    Requests (:mod:`~groundseg.planning.requests`): ``request_id``, ``request_curve``
    (:class:`PiecewiseLinear`), ``request_tasks`` (int arrays), ``task_request`` (n_tasks,)
    int, -1 = none, ``task_share`` (n_tasks,). ``same_alternative_groups`` (constructor):
    ``True`` (every group) or group keys whose members must take the same alternative index
    (a stereo pair imaged in one direction); added as incompatible pairs.
    """

    def __init__(self, tasks: Sequence[Task], resources: Sequence[Resource] | None = None,
                 downlinks: Sequence[Downlink] = (),
                 incompatibilities: Sequence[Incompatibility] = (),
                 agility=None, epoch_utc: str | None = None, requests: Sequence[Request] = (),
                 same_alternative_groups=False, budgets: Sequence[Budget] = ()):
        if not isinstance(tasks, (list, tuple)):
            tasks = list(tasks)
        if len(tasks) == 0:
            raise PlanningError("tasks: empty task list, nothing to plan")
        task_ids, weights, groups, reasons = [], [], [], []
        alt_task, alt_res, alt_e, alt_l, alt_d, alt_data, alt_vf, alt_label = ([] for _ in range(8))
        att_ptr = [0]
        att_t, att_s, att_e = [], [], []
        pre_issue: list[str | None] = []
        alt_uses = []
        for i, t in enumerate(tasks):
            where = f"tasks[{i}]"
            if not isinstance(t, Task):
                raise PlanningError(f"{where}: expected a Task, got {type(t).__name__}")
            task_ids.append(t.id)
            weights.append(t.weight)
            groups.append(t.group)
            reasons.append(t.reason_if_none)
            for j, a in enumerate(t.alternatives):
                aw = f"{where} {t.id!r}.alternatives[{j}]"
                if not isinstance(a, Alternative):
                    raise PlanningError(f"{aw}: expected an Alternative, got {type(a).__name__}")
                alt_task.append(i)
                alt_res.append(a.resource)
                timed = a.earliest_start_s is not None or a.latest_end_s is not None
                if timed and (a.earliest_start_s is None or a.latest_end_s is None):
                    raise PlanningError(f"{aw}: give both earliest_start_s and latest_end_s, "
                                        "or neither for an untimed alternative")
                for key in ("earliest_start_s", "latest_end_s", "duration_s", "data_gbit",
                            "value_factor"):
                    val = getattr(a, key)
                    if (timed or key not in ("earliest_start_s", "latest_end_s")) and not _finite(val):
                        raise PlanningError(f"{aw}.{key}: expected a finite number, got {val!r}")
                alt_e.append(float(a.earliest_start_s) if timed else math.nan)
                alt_l.append(float(a.latest_end_s) if timed else math.nan)
                alt_d.append(float(a.duration_s))
                alt_data.append(float(a.data_gbit))
                alt_vf.append(float(a.value_factor))
                alt_label.append(str(a.label))
                alt_uses.append(check_uses(a.uses, aw))
                ts, ss, es = _attitude_samples(a, aw)
                att_t.append(ts)
                att_s.append(ss)
                att_e.append(es)
                att_ptr.append(att_ptr[-1] + len(ts))
                pre_issue.append(None)
        id_index = {}
        for i, tid in enumerate(task_ids):
            id_index.setdefault(tid, i)
        incompat = []
        alt_offset = np.zeros(len(tasks) + 1, dtype=np.int64)
        np.cumsum([len(t.alternatives) for t in tasks], out=alt_offset[1:])
        for k, inc in enumerate(incompatibilities):
            where = f"incompatibilities[{k}]"
            if not isinstance(inc, Incompatibility):
                raise PlanningError(f"{where}: expected an Incompatibility, got {type(inc).__name__}")
            members = []
            for m in inc.members:
                try:
                    tid, j = m
                except (TypeError, ValueError):
                    raise PlanningError(f"{where}: member {m!r} is not a (task_id, alternative_index) pair") from None
                if tid not in id_index:
                    raise PlanningError(f"{where}: unknown task id {tid!r}")
                i = id_index[tid]
                if not isinstance(j, (int, np.integer)) or not 0 <= j < len(tasks[i].alternatives):
                    raise PlanningError(f"{where}: task {tid!r} has no alternative {j!r}")
                members.append(int(alt_offset[i] + j))
            incompat.append(tuple(members))
        self._init_columns(
            task_ids=task_ids, task_weights=weights, task_groups=groups, task_reasons=reasons,
            alt_task=np.asarray(alt_task, dtype=np.int64), alt_resource=alt_res,
            alt_e=np.asarray(alt_e, float), alt_l=np.asarray(alt_l, float),
            alt_d=np.asarray(alt_d, float), alt_data=np.asarray(alt_data, float),
            alt_vf=np.asarray(alt_vf, float), alt_label=alt_label,
            att_ptr=np.asarray(att_ptr, np.int64),
            att_t=np.concatenate(att_t) if att_t else np.zeros(0),
            att_s=np.concatenate(att_s) if att_s else np.zeros((0, 2)),
            att_e=np.concatenate(att_e) if att_e else np.zeros((0, 2)),
            resources=resources, downlinks=downlinks, incompat=incompat,
            agility=agility, epoch_utc=epoch_utc, requests=requests,
            same_alternative_groups=same_alternative_groups, alt_uses=alt_uses, budgets=budgets)

    @classmethod
    def from_columns(cls, *, task_ids, task_weights, alt_task, task_groups=None,
                     task_reasons=None, alt_resource=None, alt_earliest_start_s=None,
                     alt_latest_end_s=None, alt_duration_s=None, alt_start_attitude_deg=None,
                     alt_end_attitude_deg=None, alt_data_gbit=None, alt_value_factor=None,
                     alt_label=None, resources=None, downlinks=(), incompatibilities=(),
                     agility=None, epoch_utc=None, requests=(),
                     same_alternative_groups=False, alt_uses=None, budgets=()) -> "Problem":
        """Problem from column arrays (fast path for large instances).

        ``task_ids`` (n_tasks,), ``task_weights`` (n_tasks,), ``task_groups`` (n_tasks,)
        hashable or ``None`` entries, ``task_reasons`` (n_tasks,) str. ``alt_task``
        (n_alts,) task index of each alternative; ``alt_resource`` (n_alts,) int;
        ``alt_earliest_start_s``, ``alt_latest_end_s`` (n_alts,) with NaN for untimed;
        ``alt_duration_s``, ``alt_data_gbit``, ``alt_value_factor`` (n_alts,);
        ``alt_start_attitude_deg`` and ``alt_end_attitude_deg``: ``(n_alts, 2)`` constant
        or ``(n_alts, 2, 2)`` linear in the start time (``[:, 0]`` at the earliest start,
        ``[:, 1]`` at the latest start); end defaults to start. ``incompatibilities``:
        tuples of alternative indices. ``downlinks``: :class:`Downlink` objects or a dict of
        columns ``resource, start_s, end_s, rate_gbit_s[, station]``. ``requests``,
        ``same_alternative_groups``, ``budgets``, ``alt_uses`` (n_alts,): as for the constructor.
        """
        n_tasks = len(task_ids)
        if n_tasks == 0:
            raise PlanningError("tasks: empty task list, nothing to plan")
        alt_task = np.asarray(alt_task, dtype=np.int64).reshape(-1)
        n = alt_task.size
        if n and (alt_task.min() < 0 or alt_task.max() >= n_tasks):
            bad = int(np.flatnonzero((alt_task < 0) | (alt_task >= n_tasks))[0])
            raise PlanningError(f"alt_task[{bad}]: task index {alt_task[bad]} out of range 0..{n_tasks - 1}")

        def col(x, default, name):
            if x is None:
                return np.full(n, default, dtype=float)
            arr = np.asarray(x, dtype=float).reshape(-1)
            if arr.size != n:
                raise PlanningError(f"{name}: expected {n} values, got {arr.size}")
            return arr

        e = col(alt_earliest_start_s, np.nan, "alt_earliest_start_s")
        lend = col(alt_latest_end_s, np.nan, "alt_latest_end_s")
        d = col(alt_duration_s, 0.0, "alt_duration_s")

        def att(x, name, default):
            if x is None:
                return default
            arr = np.asarray(x, dtype=float)
            if arr.shape == (n, 2):
                return np.stack([arr, arr], axis=1)
            if arr.shape == (n, 2, 2):
                return arr
            raise PlanningError(f"{name}: expected shape ({n}, 2) or ({n}, 2, 2), got {arr.shape}")

        zero = np.zeros((n, 2, 2))
        s_att = att(alt_start_attitude_deg, "alt_start_attitude_deg", zero)
        e_att = att(alt_end_attitude_deg, "alt_end_attitude_deg", s_att)
        varying = np.any(s_att[:, 0] != s_att[:, 1], axis=1) | np.any(e_att[:, 0] != e_att[:, 1], axis=1)
        counts = np.where(varying, 2, 1)
        att_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=att_ptr[1:])
        m = int(att_ptr[-1])
        att_t = np.zeros(m)
        att_s = np.zeros((m, 2))
        att_e = np.zeros((m, 2))
        first = att_ptr[:-1]
        att_t[first] = e
        att_s[first] = s_att[:, 0]
        att_e[first] = e_att[:, 0]
        second = first[varying] + 1
        att_t[second] = (lend - d)[varying]
        att_s[second] = s_att[varying, 1]
        att_e[second] = e_att[varying, 1]
        obj = cls.__new__(cls)
        obj._init_columns(
            task_ids=list(task_ids), task_weights=list(np.asarray(task_weights, float)),
            task_groups=list(task_groups) if task_groups is not None else [None] * n_tasks,
            task_reasons=list(task_reasons) if task_reasons is not None else ["no_opportunity"] * n_tasks,
            alt_task=alt_task,
            alt_resource=np.zeros(n, np.int64) if alt_resource is None else np.asarray(alt_resource).reshape(-1),
            alt_e=e, alt_l=lend, alt_d=d, alt_data=col(alt_data_gbit, 0.0, "alt_data_gbit"),
            alt_vf=col(alt_value_factor, 1.0, "alt_value_factor"),
            alt_label=[""] * n if alt_label is None else [str(x) for x in alt_label],
            att_ptr=att_ptr, att_t=att_t, att_s=att_s, att_e=att_e,
            resources=resources, downlinks=downlinks,
            incompat=[tuple(int(i) for i in t) for t in incompatibilities],
            agility=agility, epoch_utc=epoch_utc, requests=requests,
            same_alternative_groups=same_alternative_groups, budgets=budgets,
            alt_uses=[check_uses(u, f"alt_uses[{k}]") for k, u in enumerate(alt_uses or [None] * n)])
        return obj

    # -- construction -------------------------------------------------------------------

    def _init_columns(self, *, task_ids, task_weights, task_groups, task_reasons, alt_task,
                      alt_resource, alt_e, alt_l, alt_d, alt_data, alt_vf, alt_label,
                      att_ptr, att_t, att_s, att_e, resources, downlinks, incompat,
                      agility, epoch_utc, requests=(), same_alternative_groups=False,
                      alt_uses=(), budgets=()):
        n_tasks = len(task_ids)
        seen = {}
        for i, tid in enumerate(task_ids):
            if isinstance(tid, bool) or not isinstance(tid, (str, int, np.integer)):
                raise PlanningError(f"tasks[{i}].id: expected str or int, got {tid!r}")
            if tid in seen:
                raise PlanningError(f"tasks[{i}].id: duplicate task id {tid!r} (first at tasks[{seen[tid]}])")
            seen[tid] = i
        for i, w in enumerate(task_weights):
            if not _finite(w) or w < 0:
                raise PlanningError(f"tasks[{i}] {task_ids[i]!r}.weight: expected a finite number >= 0, got {w!r}")
        self.task_id = [t.item() if isinstance(t, np.generic) else t for t in task_ids]
        self.task_index = {t: i for i, t in enumerate(self.task_id)}
        self.task_weight = np.asarray(task_weights, dtype=float)
        self.task_reason = [str(r) for r in task_reasons]
        group_keys: dict = {}
        self.task_group = np.full(n_tasks, -1, dtype=np.int64)
        members: list[list[int]] = []
        for i, g in enumerate(task_groups):
            if g is None:
                continue
            try:
                k = group_keys.setdefault(g, len(group_keys))
            except TypeError:
                raise PlanningError(f"tasks[{i}] {task_ids[i]!r}.group: not hashable: {g!r}") from None
            if k == len(members):
                members.append([])
            members[k].append(i)
            self.task_group[i] = k
        self.group_key = list(group_keys)
        self.groups = [np.asarray(m, dtype=np.int64) for m in members]

        if resources is None:
            n_res = int(np.max(alt_resource)) + 1 if len(alt_resource) else 1
            resources = [Resource() for _ in range(max(n_res, 1))]
        resources = list(resources)
        if not resources:
            raise PlanningError("resources: empty list")
        for r, res in enumerate(resources):
            if not isinstance(res, Resource):
                raise PlanningError(f"resources[{r}]: expected a Resource, got {type(res).__name__}")
            cap = res.memory_capacity_gbit
            if not (isinstance(cap, (int, float)) and not math.isnan(cap) and cap >= 0):
                raise PlanningError(f"resources[{r}].memory_capacity_gbit: expected a number >= 0 (inf = unlimited), got {cap!r}")
            if not _finite(res.memory_initial_gbit) or not 0 <= res.memory_initial_gbit <= cap:
                raise PlanningError(f"resources[{r}].memory_initial_gbit: expected 0 <= value <= capacity {cap}, got {res.memory_initial_gbit!r}")
        self.n_resources = len(resources)
        self.res_name = [res.name or f"R{r}" for r, res in enumerate(resources)]
        self.res_capacity_gbit = np.array([float(r.memory_capacity_gbit) for r in resources])
        self.res_initial_gbit = np.array([float(r.memory_initial_gbit) for r in resources])

        n = len(alt_task)
        self.n_tasks = n_tasks
        self.n_alts = n
        self.alt_task = np.asarray(alt_task, dtype=np.int64)
        res_arr = np.asarray(alt_resource)
        if n and (not np.issubdtype(res_arr.dtype, np.integer)):
            if not np.all(np.equal(np.mod(res_arr.astype(float), 1), 0)):
                bad = int(np.flatnonzero(np.mod(res_arr.astype(float), 1) != 0)[0])
                raise PlanningError(f"alternative {self._alt_where(bad)}.resource: expected an integer, got {res_arr[bad]!r}")
        self.alt_resource = res_arr.astype(np.int64)
        if n:
            bad = np.flatnonzero((self.alt_resource < 0) | (self.alt_resource >= self.n_resources))
            if bad.size:
                raise PlanningError(f"alternative {self._alt_where(int(bad[0]))}.resource: "
                                    f"index {self.alt_resource[bad[0]]} out of range 0..{self.n_resources - 1}")
        self.alt_earliest_s = alt_e
        self.alt_latest_end_s = alt_l
        self.alt_duration_s = alt_d
        self.alt_latest_start_s = alt_l - alt_d
        self.alt_timed = ~(np.isnan(alt_e) & np.isnan(alt_l))
        self.alt_data_gbit = alt_data
        self.alt_value_factor = alt_vf
        self.alt_label = list(alt_label)
        self.att_ptr = att_ptr
        self.att_time_s = att_t
        self.att_start_deg = att_s
        self.att_end_deg = att_e
        self.alt_value = self.task_weight[self.alt_task] * alt_vf if n else np.zeros(0)
        counts = np.bincount(self.alt_task, minlength=n_tasks) if n else np.zeros(n_tasks, int)
        self.alt_local = np.zeros(n, dtype=np.int64)
        order = np.argsort(self.alt_task, kind="stable")
        starts = np.zeros(n_tasks + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        self.task_alts = [order[starts[i]:starts[i + 1]] for i in range(n_tasks)]
        for alts in self.task_alts:
            self.alt_local[alts] = np.arange(len(alts))

        # per-alternative checks: bad numbers raise, an empty window is carried as an issue
        for name, arr in (("duration_s", alt_d), ("data_gbit", alt_data), ("value_factor", alt_vf)):
            bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
            if bad.size:
                raise PlanningError(f"alternative {self._alt_where(int(bad[0]))}.{name}: "
                                    f"expected a finite number >= 0, got {arr[bad[0]]!r}")
        timed = self.alt_timed
        bad = np.flatnonzero(timed & (~np.isfinite(alt_e) | ~np.isfinite(alt_l)))
        if bad.size:
            raise PlanningError(f"alternative {self._alt_where(int(bad[0]))}: window "
                                f"[{alt_e[bad[0]]}, {alt_l[bad[0]]}] is not finite")
        if not (np.all(np.isfinite(att_t[np.isfinite(att_t)])) and np.all(np.isfinite(att_s))
                and np.all(np.isfinite(att_e))):
            bad_s = np.flatnonzero(~np.all(np.isfinite(att_s), axis=1) | ~np.all(np.isfinite(att_e), axis=1))
            a = int(np.searchsorted(att_ptr, bad_s[0], side="right") - 1)
            raise PlanningError(f"alternative {self._alt_where(a)}: attitude is not finite")
        self.alt_issue: list[str | None] = [None] * n
        self.alt_valid = np.ones(n, dtype=bool)
        short = np.flatnonzero(timed & (alt_l - alt_e < alt_d - _TOL_S))
        for a in short:
            self.alt_valid[a] = False
            self.alt_issue[a] = (f"window [{alt_e[a]:.3f}, {alt_l[a]:.3f}] s is "
                                 f"{alt_l[a] - alt_e[a]:.3f} s, shorter than the duration {alt_d[a]:.3f} s")
        cap = self.res_capacity_gbit[self.alt_resource] if n else np.zeros(0)
        big = np.flatnonzero(self.alt_valid & (alt_data > cap + 1e-9))
        for a in big:
            self.alt_valid[a] = False
            self.alt_issue[a] = (f"data volume {alt_data[a]:g} Gbit exceeds the memory capacity "
                                 f"{cap[a]:g} Gbit of resource {self.res_name[self.alt_resource[a]]}")

        # downlinks
        if isinstance(downlinks, dict):
            downlinks = downlinks_from_columns(downlinks)
        dl_res, dl_s, dl_e, dl_rate, dl_station = [], [], [], [], []
        for k, dl in enumerate(downlinks):
            where = f"downlinks[{k}]"
            if not isinstance(dl, Downlink):
                raise PlanningError(f"{where}: expected a Downlink, got {type(dl).__name__}")
            if not isinstance(dl.resource, (int, np.integer)) or not 0 <= dl.resource < self.n_resources:
                raise PlanningError(f"{where}.resource: {dl.resource!r} is not a resource index 0..{self.n_resources - 1}")
            if not (_finite(dl.start_s) and _finite(dl.end_s)) or dl.end_s < dl.start_s:
                raise PlanningError(f"{where}: [{dl.start_s!r}, {dl.end_s!r}] is not a finite interval")
            if not _finite(dl.rate_gbit_s) or dl.rate_gbit_s <= 0:
                raise PlanningError(f"{where}.rate_gbit_s: expected a finite number > 0, got {dl.rate_gbit_s!r}")
            dl_res.append(int(dl.resource))
            dl_s.append(float(dl.start_s))
            dl_e.append(float(dl.end_s))
            dl_rate.append(float(dl.rate_gbit_s))
            dl_station.append(str(dl.station))
        self.n_downlinks = len(dl_res)
        self.dl_resource = np.asarray(dl_res, dtype=np.int64)
        self.dl_start_s = np.asarray(dl_s, dtype=float)
        self.dl_end_s = np.asarray(dl_e, dtype=float)
        self.dl_rate_gbit_s = np.asarray(dl_rate, dtype=float)
        self.dl_station = dl_station
        self.dl_usable = usable_downlinks(self.dl_resource, self.dl_start_s, self.dl_end_s,
                                           self.dl_rate_gbit_s)

        # requests, then incompatibilities (with the same-alternative pairs of groups)
        (self.request_id, self.request_curve, self.request_tasks, self.task_request,
         self.task_share) = request_columns(requests, self.task_index, n_tasks)
        if same_alternative_groups is True:
            same = range(len(self.groups))
        elif same_alternative_groups is False or same_alternative_groups is None:
            same = []
        else:
            try:
                same = [self.group_key.index(g) for g in same_alternative_groups]
            except (TypeError, ValueError):
                raise PlanningError(f"same_alternative_groups: {same_alternative_groups!r} names "
                                    "a group no task has") from None
        incompat = list(incompat) + same_alternative_pairs(self, same)
        self.incompat: list[tuple[int, ...]] = []
        self.alt_incompat: list[list[int]] = [[] for _ in range(n)]
        for k, members in enumerate(incompat):
            if len(members) == 0:
                raise PlanningError(f"incompatibilities[{k}]: no members")
            for a in members:
                if not 0 <= a < n:
                    raise PlanningError(f"incompatibilities[{k}]: alternative index {a} out of range 0..{n - 1}")
            if len(set(members)) != len(members):
                raise PlanningError(f"incompatibilities[{k}]: repeated alternative in {members}")
            tasks_of = [int(self.alt_task[a]) for a in members]
            if len(set(tasks_of)) != len(tasks_of):
                # two alternatives of one task are never chosen together: cannot bind
                continue
            idx = len(self.incompat)
            self.incompat.append(tuple(int(a) for a in members))
            for a in members:
                self.alt_incompat[a].append(idx)

        self.agility = as_transition_model(agility)
        self._transition = scalar_transition(self.agility)
        own = [as_transition_model(r.agility) if r.agility is not None else self.agility
               for r in resources]
        self.res_agility = own
        self._res_transition = [self._transition if m is self.agility else scalar_transition(m) for m in own]
        self.min_transition_s = min(float(m.min_transition_s) for m in [self.agility] + own)
        self._check_transition_model()
        self.epoch_utc = epoch_utc
        attach_budgets(self, budgets, list(alt_uses) or [{}] * n)

    def _alt_where(self, a: int) -> str:
        t = int(self.alt_task[a])
        local = int(np.sum(self.alt_task[:a] == t))
        return f"tasks[{t}] {self.task_id[t]!r}.alternatives[{local}]"

    # -- queries ------------------------------------------------------------------------

    @property
    def is_selection(self) -> bool:
        """True when no alternative is timed (a pure selection problem, e.g. SPOT5)."""
        return not bool(np.any(self.alt_timed))

    def attitude_deg(self, alt: int, start_s: float, end: bool = False) -> tuple[float, float]:
        """``(roll_deg, pitch_deg)`` of alternative ``alt`` at the start (or end) of an
        acquisition starting at ``start_s``."""
        p, q = int(self.att_ptr[alt]), int(self.att_ptr[alt + 1])
        vals = self.att_end_deg if end else self.att_start_deg
        if q - p == 1:
            return float(vals[p, 0]), float(vals[p, 1])
        ts = self.att_time_s[p:q]
        return (float(np.interp(start_s, ts, vals[p:q, 0])),
                float(np.interp(start_s, ts, vals[p:q, 1])))

    def transition_s(self, alt_from: int, start_from_s: float, alt_to: int, start_to_s: float) -> float:
        """Transition time (s) from the end of ``alt_from`` (started at ``start_from_s``) to
        the start of ``alt_to`` (started at ``start_to_s``), with ``alt_to``'s resource's model."""
        r0, p0 = self.attitude_deg(alt_from, start_from_s, end=True)
        r1, p1 = self.attitude_deg(alt_to, start_to_s)
        end_s = start_from_s + float(self.alt_duration_s[alt_from])
        return self._res_transition[int(self.alt_resource[alt_to])](r0, p0, r1, p1, end_s, start_to_s)

    def _check_transition_model(self) -> None:
        """Each transition model on the attitude samples of the first 64 timed alternatives it serves."""
        for model in {id(m): m for m in self.res_agility}.values():
            mine = np.array([m is model for m in self.res_agility])[self.alt_resource]
            timed = np.flatnonzero(self.alt_timed & self.alt_valid & mine)[:64]
            if timed.size:
                k = np.unique(np.concatenate([np.arange(self.att_ptr[a], self.att_ptr[a + 1]) for a in timed]))[:64]
                check_on_samples(model, self.att_end_deg[k], self.att_start_deg[k], self.att_time_s[k])

    def alternative_id(self, alt: int) -> tuple:
        """``(task_id, alternative_index)`` of global alternative ``alt``."""
        return self.task_id[int(self.alt_task[alt])], int(self.alt_local[alt])

    def __repr__(self) -> str:
        return (f"Problem({self.n_tasks} tasks, {self.n_alts} alternatives, "
                f"{self.n_resources} resources, {self.n_downlinks} downlinks, "
                f"{len(self.incompat)} incompatibilities, {len(self.groups)} groups, "
                f"agility={self.agility!r})")


def _attitude_samples(a: Alternative, where: str):
    """(times (k,), start (k, 2), end (k, 2)) attitude samples of one alternative."""
    try:
        s = np.asarray(a.start_attitude_deg, dtype=float)
        e = s if a.end_attitude_deg is None else np.asarray(a.end_attitude_deg, dtype=float)
    except (TypeError, ValueError):
        raise PlanningError(f"{where}: attitude is not numeric") from None
    if s.shape == (2,):
        s = s[None, :]
    if e.shape == (2,):
        e = e[None, :]
    if s.ndim != 2 or s.shape[1] != 2 or e.shape != s.shape:
        raise PlanningError(f"{where}: start/end attitude must be (2,) or (k, 2) of the same "
                            f"shape, got {np.shape(a.start_attitude_deg)} and "
                            f"{np.shape(a.end_attitude_deg) if a.end_attitude_deg is not None else 'None'}")
    k = s.shape[0]
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(e))):
        raise PlanningError(f"{where}: attitude is not finite")
    if a.attitude_times_s is None:
        if k == 1:
            t = np.array([a.earliest_start_s if a.earliest_start_s is not None else 0.0], float)
        elif k == 2:
            if a.earliest_start_s is None:
                raise PlanningError(f"{where}: an untimed alternative has a constant attitude")
            t = np.array([a.earliest_start_s, a.latest_end_s - a.duration_s], float)
            if not t[1] > t[0]:
                return t[:1], s[:1], e[:1]
        else:
            raise PlanningError(f"{where}: {k} attitude samples need attitude_times_s")
    else:
        t = np.asarray(a.attitude_times_s, dtype=float).reshape(-1)
        if t.size != k:
            raise PlanningError(f"{where}.attitude_times_s: {t.size} times for {k} attitude samples")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise PlanningError(f"{where}.attitude_times_s: expected finite increasing times")
    return t, s, e
