"""Scheduling: the model, transition models, requests, solvers, plans and a verifier.

The model and the solvers are geometry-free: they see windows, attitudes as functions of
the start time, data volumes and downlinks. One module is not: :mod:`.imaging` is the
adapter from :mod:`groundseg.access` opportunities and a contact plan to the model and back
(:func:`plan_imaging`, :class:`ImagingSpacecraft`); nothing else here imports geometry.

The model
---------
A :class:`Problem` has **tasks** (targets, strips, SPOT5 photographs), each with a
``weight`` and a list of **alternatives**, the ways it can be carried out. A plan chooses at
most one alternative per task and earns ``weight * value_factor`` of the chosen one.

An alternative names a **resource** (satellite index). A *timed* alternative has a window
``[earliest_start_s, latest_end_s]`` (seconds from the plan epoch), a ``duration_s`` and a
start and end **attitude** ``(roll_deg, pitch_deg)`` that may depend on the start time
(constant, linear over the window, or sampled and interpolated): the acquisition occupies
``[s, s + duration_s]`` for a start ``s`` inside the window. An *untimed* alternative (no
window) takes no time: pure selection, as in SPOT5.

On one resource, timed acquisitions do not overlap and consecutive ones leave the
**transition time** of the problem's agility model between the end attitude of the first
and the start attitude of the next: ``s_next >= s + duration + transition``. There is no
constraint on the first acquisition's attitude. Transition models
(:mod:`~groundseg.planning.agility`, a documented protocol: vectorised
``transition_time_s(from_deg, to_deg, from_time_s, to_time_s)`` and ``min_transition_s``):
:class:`PiecewiseAgility` (Liu et al. 2017, the default), :class:`RateAccelerationAgility`,
:class:`TransitionFunction` (a user callable), :class:`TransitionMatrix` (a per-pair table).

**Requests** (:mod:`~groundseg.planning.requests`): a :class:`Request` values its tasks
together by a :class:`PiecewiseLinear` curve of the covered fraction (the sum of the shares
of its scheduled tasks); the objective is the tasks' own values plus the requests' values.

**Incompatibilities** forbid combinations of alternatives (a SPOT5 forbidden tuple, two
acquisitions sharing something the model does not see). **Groups** are all-or-nothing
(stereo pairs: give both tasks the same ``group``); with ``same_alternative_groups`` their
members also take the same alternative index (a stereo pair imaged in one direction).

**Memory**: each alternative records ``data_gbit`` on its resource; each
:class:`Resource` has a ``memory_capacity_gbit`` (``inf`` = unlimited) and an initial
volume. The volume is reserved when an acquisition starts and can be downlinked once it
ends; untimed data is on board from the epoch. A :class:`Downlink` ``(resource, start_s,
end_s, rate_gbit_s, station)`` drains the memory at its rate while there is anything to
drain. The level never exceeds the capacity (nor goes below zero). Downlinks of one
resource are used one at a time: when they overlap, the non-overlapping subset of largest
volume is usable (``Problem.dl_usable``); stations shared between satellites must be
arbitrated before planning (a contact plan).

**Per resource**: a :class:`Resource` may bring its own transition model (``agility``: a
radar satellite slews differently from an optical one). **Budgets**
(:mod:`~groundseg.planning._budgets`): a :class:`Budget` caps what a resource's alternatives
spend of a quantity (``Alternative.uses``, e.g. radar seconds and Wh) over a span of time
(one orbit).

Tasks with no usable alternative (none given, or windows shorter than the duration) are
reported unscheduled with their ``reason_if_none`` (``no_opportunity`` unless the caller
says e.g. ``sun``). Malformed input (empty task list, non-finite numbers, unknown ids)
raises :class:`PlanningError` naming the location.

Mapping imaging opportunities
-----------------------------
One task per target (or per strip of an area, with ``weight`` its share of the area); one
alternative per opportunity: ``resource`` = satellite index, the window = the access
interval, ``duration_s`` = the imaging time, the attitude at the start (and end) as a
function of the start time (``Problem.from_columns`` takes ``(n, 2, 2)`` arrays: linear
from the earliest to the latest start; the object API also takes ``k`` samples), the
data volume, and ``value_factor`` for quality (e.g. off-nadir penalty). Opportunities
removed for illumination: give the task no alternative and ``reason_if_none="sun"``.
Stereo: one task per view, same ``group``, and an :class:`Incompatibility` for each pair
of views that do not belong together (other satellite or pass). Downlinks: one per
station pass (contact plan), with the link rate.

Solving
-------
:func:`solve` (methods ``auto``, ``greedy``, ``lns``, ``milp``) returns a :class:`Plan`
with acquisitions, downlink volumes, a per-resource command timeline, the unscheduled
tasks with reasons (``conflict``, ``memory``, ``group``, ...), per-request covered
fraction and value, the ``objective``, an
``upper_bound`` and the ``gap``. The bound is a MILP dual bound, or the lower of the LP
relaxation of a relaxed selection model and, for timed problems, a Lagrangian bound over
the paths of a time-expanded graph of each satellite's sequences (:func:`upper_bound`),
never a guess. :func:`verify_plan`
re-checks a plan against the problem with code independent of the solvers.
:func:`replan` (:mod:`~groundseg.planning.replan`) puts one urgent task into a running plan
with the least perturbation.

SPOT5 (:mod:`~groundseg.planning.spot5`): :func:`read_spot5` maps the benchmark onto the
model (values -> untimed alternatives, consumptions -> ``data_gbit``, capacity -> memory).

Example::

    from groundseg.planning import Alternative, Problem, Task, solve
    tasks = [Task("T1", 3.0, [Alternative(resource=0, earliest_start_s=0, latest_end_s=120,
                                          duration_s=10, start_attitude_deg=(20, 0))]),
             Task("T2", 2.0, [Alternative(resource=0, earliest_start_s=5, latest_end_s=60,
                                          duration_s=10, start_attitude_deg=(-30, 5))])]
    plan = solve(Problem(tasks), time_limit_s=2)
    print(plan.summary()); plan.to_json("plan.json"); plan.timeline_csv("timeline.csv")
"""
from .agility import (PiecewiseAgility, RateAccelerationAgility, TransitionFunction,
                      TransitionMatrix, TransitionModel, agility_from_dict)
from .errors import PlanningError
from .model import Alternative, Budget, Downlink, Incompatibility, Problem, Resource, Task
from .plan import Plan
from .requests import PiecewiseLinear, Request
from .solve import METHODS, solve, upper_bound
from .spot5 import Spot5Instance, read_spot5, spot5_solution, write_spot5_solution
from .verify import verify_plan
from .imaging import ImagingPlan, ImagingSpacecraft, imaging_problem, plan_imaging  # noqa: E402
from .replan import Replan, replan  # noqa: E402

__all__ = [
    "Alternative", "Task", "Resource", "Downlink", "Incompatibility", "Budget", "Problem",
    "Request", "PiecewiseLinear",
    "TransitionModel", "PiecewiseAgility", "RateAccelerationAgility", "TransitionFunction",
    "TransitionMatrix", "agility_from_dict",
    "Plan", "solve", "upper_bound", "METHODS", "verify_plan",
    "Spot5Instance", "read_spot5", "spot5_solution", "write_spot5_solution",
    "ImagingSpacecraft", "ImagingPlan", "imaging_problem", "plan_imaging", "Replan", "replan",
    "PlanningError",
]
