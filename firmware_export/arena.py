"""Static activation memory plan for the generated model: one arena, offsets per tensor.

* Lifetimes come from the operator order: a tensor is live from the operator
  that writes it to the last operator that reads it (both inclusive, so no
  operator ever writes over one of its own inputs).
* ``RESHAPE`` is a view: its output aliases its input's bytes (no copy); the
  aliased tensors share one buffer whose lifetime covers them all.
* The graph input is the caller's ``features`` array and the graph output (when
  only the last writer needs it) the caller's ``scores`` array: neither takes
  arena space.
* Buffers are placed largest first (ties: earliest first use) at the lowest
  ``align``-aligned offset that does not overlap any already placed buffer whose
  lifetime intersects, so tensors that are never live together share bytes.
"""

from __future__ import annotations

import dataclasses

from kws.firmware_export.tflite_graph import Graph

DEFAULT_ALIGN = 4


@dataclasses.dataclass(frozen=True)
class Buffer:
    """One arena buffer: a tensor plus every RESHAPE view of it."""

    root: int
    """Tensor index that owns the bytes."""
    tensors: tuple[int, ...]
    """All tensor indices stored here (root first, then its views)."""
    size: int
    first: int
    """Index of the operator that writes it."""
    last: int
    """Index of the last operator that reads it."""
    offset: int

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    def overlaps_in_space(self, other: "Buffer") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclasses.dataclass(frozen=True)
class ArenaPlan:
    """Result of :func:`plan_arena`."""

    size: int
    """Arena bytes (a multiple of ``align``; 0 when nothing needs space)."""
    align: int
    buffers: tuple[Buffer, ...]
    """Placed buffers, in placement order (largest first)."""
    offsets: dict[int, int]
    """Arena offset of every tensor index that lives in the arena (views included)."""
    external: dict[int, str]
    """Tensors outside the arena: index -> ``"input"`` or ``"output"`` (caller's arrays)."""
    aliases: dict[int, int]
    """RESHAPE view tensor -> tensor whose bytes it uses (the view's root storage)."""
    copies: tuple[tuple[int, int], ...]
    """(source, destination) pairs of RESHAPE ops that must copy (the destination is the graph output)."""

    @property
    def naive_size(self) -> int:
        """Bytes without reuse: the sum of every buffer's size."""
        return sum(b.size for b in self.buffers)

    def report(self, graph: Graph | None = None) -> str:
        """Human-readable plan: one line per buffer (offset, size, live operator range, tensor)."""
        lines = [f"arena {self.size} bytes (align {self.align}; {self.naive_size} bytes without reuse)"]
        for b in sorted(self.buffers, key=lambda b: (b.offset, b.first)):
            name = graph.tensors[b.root].name if graph is not None else f"t{b.root}"
            views = f" (+{len(b.tensors) - 1} view)" if len(b.tensors) > 1 else ""
            lines.append(f"  [{b.offset:6d}, {b.offset + b.size:6d})  ops {b.first:2d}..{b.last:2d}  {name}{views}")
        return "\n".join(lines)


def _round_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def plan_arena(graph: Graph, *, align: int = DEFAULT_ALIGN) -> ArenaPlan:
    """Plan the static arena of ``graph``'s activations.

    Parameters
    ----------
    graph : Graph
        Parsed model (operators in execution order).
    align : int
        Alignment of every buffer offset and of the arena size (power of two).
    """
    if align < 1 or align & (align - 1):
        raise ValueError(f"align must be a power of two, got {align}")
    ops = graph.operators
    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(ops):
        for t in op.inputs:
            if t >= 0 and not graph.tensors[t].is_constant:
                consumers.setdefault(t, []).append(i)

    # Storage each tensor uses: a RESHAPE output uses its input's storage, except the
    # graph output, which is the caller's array and gets a copy.
    storage: dict[int, int] = {graph.input: graph.input}
    aliases: dict[int, int] = {}
    copies: list[tuple[int, int]] = []
    producer: dict[int, int] = {}
    for i, op in enumerate(ops):
        out = op.outputs[0]
        producer[out] = i
        if op.op == "RESHAPE" and out != graph.output:
            storage[out] = storage.get(op.inputs[0], op.inputs[0])
            aliases[out] = storage[out]
        else:
            storage[out] = out
            if op.op == "RESHAPE":
                copies.append((op.inputs[0], out))

    output_in_arena = graph.output in consumers  # read again after being written: keep a working copy
    external = {graph.input: "input"}
    if not output_in_arena:
        external[graph.output] = "output"

    members: dict[int, list[int]] = {}
    for t, root in storage.items():
        members.setdefault(root, []).append(t)
    pending = []
    for root, tensors in members.items():
        if root in external:
            continue
        first = producer[root]
        last = max([c for t in tensors for c in consumers.get(t, [])] + [first] +
                   [producer[t] for t in tensors if t in producer])
        if root == graph.output or graph.output in tensors:
            last = len(ops)  # copied out after the last operator
        size = graph.tensors[root].nbytes
        tensors_sorted = tuple([root] + sorted(t for t in tensors if t != root))
        pending.append((size, first, last, root, tensors_sorted))

    placed: list[Buffer] = []
    for size, first, last, root, tensors in sorted(pending, key=lambda p: (-p[0], p[1], p[3])):
        candidate = Buffer(root=root, tensors=tensors, size=size, first=first, last=last, offset=0)
        conflicts = sorted((b for b in placed if b.overlaps_in_time(candidate)), key=lambda b: b.offset)
        offset = 0
        for b in conflicts:
            if offset + size <= b.offset:
                break
            offset = max(offset, _round_up(b.offset + b.size, align))
        placed.append(dataclasses.replace(candidate, offset=offset))

    offsets = {t: b.offset for b in placed for t in b.tensors}
    size = _round_up(max((b.offset + b.size for b in placed), default=0), align)
    return ArenaPlan(size=size, align=align, buffers=tuple(placed), offsets=offsets, external=external,
                     aliases=aliases, copies=tuple(copies))


__all__ = ["ArenaPlan", "Buffer", "DEFAULT_ALIGN", "plan_arena"]
