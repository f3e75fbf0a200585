"""SPOT5 daily photograph scheduling instances (Bensana et al. 1999) on the planning model.

File format (whitespace separated, one record per line)::

    n
    id weight k v1 c1 ... vk ck [x y]     (n lines; values 1, 2, 3 or 13, consumption c)
    m
    a id_1 .. id_a t_1 .. t_(a*r)         (forbidden tuples of the a variables)
    capacity                              (multi-orbit files; counted in m)

Mapping: every photograph is a :class:`Task` (id = the variable id, weight = the gain),
every domain value an untimed :class:`Alternative` on resource 0 with
``data_gbit = consumption`` (the file's units) and ``label = str(value)``; each forbidden
tuple is an :class:`Incompatibility` (tuples naming a value outside a domain cannot bind and
are dropped); the capacity line becomes the resource's memory capacity (unlimited when
absent). A solution is the list of ``id value`` lines of the photographs taken.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import PlanningError
from .model import Alternative, Incompatibility, Problem, Resource, Task

__all__ = ["Spot5Instance", "read_spot5", "spot5_solution", "write_spot5_solution"]


@dataclass
class Spot5Instance:
    """A loaded instance: the ``problem``, the source ``path``, ``capacity`` (None for
    single-orbit files) and, per task, its variable ``ids`` and domain ``values``."""

    problem: Problem
    path: str
    ids: list[int]
    values: list[list[int]]
    capacity: float | None


def _ints(tokens, where):
    try:
        return [int(x) for x in tokens]
    except ValueError:
        raise PlanningError(f"{where}: expected integers, got {' '.join(tokens)!r}") from None


def read_spot5(path) -> Spot5Instance:
    """Load a ``.spot`` file. Errors name ``file:line``."""
    path = os.fspath(path)
    name = os.path.basename(path)
    with open(path, encoding="ascii", errors="replace") as f:
        lines = [(i + 1, ln.split()) for i, ln in enumerate(f) if ln.strip()]
    if not lines:
        raise PlanningError(f"{name}: empty file")
    pos = 0

    def take():
        nonlocal pos
        if pos >= len(lines):
            raise PlanningError(f"{name}:{lines[-1][0]}: file ends early")
        item = lines[pos]
        pos += 1
        return item

    ln, tok = take()
    if len(tok) != 1:
        raise PlanningError(f"{name}:{ln}: expected the number of variables")
    n = _ints(tok, f"{name}:{ln}")[0]
    if n <= 0:
        raise PlanningError(f"{name}:{ln}: {n} variables, nothing to plan")
    tasks, ids, values = [], [], []
    index = {}
    for _ in range(n):
        ln, tok = take()
        where = f"{name}:{ln}"
        if len(tok) < 3:
            raise PlanningError(f"{where}: expected 'id weight k v1 c1 ...'")
        vid, weight, k = _ints(tok[:3], where)
        if k <= 0 or len(tok) < 3 + 2 * k or len(tok) not in (3 + 2 * k, 5 + 2 * k):
            raise PlanningError(f"{where}: variable {vid}: {k} values need {2 * k} numbers after the count")
        if vid in index:
            raise PlanningError(f"{where}: variable {vid} defined twice")
        if weight < 0:
            raise PlanningError(f"{where}: variable {vid}: negative weight {weight}")
        dom, alts = [], []
        for j in range(k):
            v = _ints([tok[3 + 2 * j]], where)[0]
            try:
                c = float(tok[4 + 2 * j])
            except ValueError:
                raise PlanningError(f"{where}: variable {vid}: consumption {tok[4 + 2 * j]!r} is not a number") from None
            if not math.isfinite(c) or c < 0:
                raise PlanningError(f"{where}: variable {vid}: consumption {c}")
            if v in dom:
                raise PlanningError(f"{where}: variable {vid}: value {v} listed twice")
            dom.append(v)
            alts.append(Alternative(resource=0, data_gbit=c, label=str(v)))
        index[vid] = len(tasks)
        tasks.append(Task(id=vid, weight=float(weight), alternatives=alts))
        ids.append(vid)
        values.append(dom)
    ln, tok = take()
    if len(tok) != 1:
        raise PlanningError(f"{name}:{ln}: expected the number of constraints")
    m = _ints(tok, f"{name}:{ln}")[0]
    incompat = []
    capacity = None
    for c in range(m):
        ln, tok = take()
        where = f"{name}:{ln}"
        if len(tok) == 1 and c == m - 1:
            try:
                capacity = float(tok[0])
            except ValueError:
                raise PlanningError(f"{where}: capacity {tok[0]!r} is not a number") from None
            if not math.isfinite(capacity) or capacity < 0:
                raise PlanningError(f"{where}: capacity {capacity}")
            break
        nums = _ints(tok, where)
        a = nums[0]
        if a < 1 or len(nums) < 1 + a or (len(nums) - 1 - a) % a:
            raise PlanningError(f"{where}: arity {a} does not match {len(nums) - 1} numbers")
        vars_ = nums[1:1 + a]
        for v in vars_:
            if v not in index:
                raise PlanningError(f"{where}: unknown variable {v}")
        if len(set(vars_)) != a:
            raise PlanningError(f"{where}: a variable appears twice in {vars_}")
        flat = nums[1 + a:]
        for q in range(0, len(flat), a):
            tup = flat[q:q + a]
            members = []
            for v, val in zip(vars_, tup):
                dom = values[index[v]]
                if val not in dom:
                    break
                members.append((v, dom.index(val)))
            else:
                incompat.append(Incompatibility(tuple(members)))
    if pos != len(lines):
        raise PlanningError(f"{name}:{lines[pos][0]}: unexpected data after the constraints")
    res = Resource(name="SPOT5", memory_capacity_gbit=math.inf if capacity is None else capacity)
    problem = Problem(tasks, resources=[res], incompatibilities=incompat)
    return Spot5Instance(problem, path, ids, values, capacity)


def spot5_solution(instance: Spot5Instance, plan) -> list[tuple[int, int]]:
    """``(variable id, value)`` of every photograph the plan takes, sorted by id."""
    p = instance.problem
    out = []
    for tid, j in zip(plan.acquisitions["target"], plan.acquisitions["alternative"]):
        t = p.task_index[tid]
        out.append((int(tid), int(instance.values[t][int(j)])))
    return sorted(out)


def write_spot5_solution(path, pairs) -> None:
    """Write ``id value`` lines."""
    with open(path, "w", encoding="ascii") as f:
        for vid, val in pairs:
            f.write(f"{vid} {val}\n")
