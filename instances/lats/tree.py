"""The LATS search tree: nodes, UCT selection and backpropagation (pure, framework-free).

The tree is a dict ``node_id -> SearchNode`` kept in the graph state. Node ids are ``n0``
(the root: the question) then ``n1``, ``n2``... in creation order, so a run's tree reads
the same in the state, in the trace and in a test.

* Selection (:func:`select`) descends from the root, at each level taking the expandable
  child with the highest UCT value, until it reaches a node without children. A node is
  expandable when it is not terminal (an answer), lies above ``max_depth`` and, if it has
  children, at least one of them is expandable; unvisited children (UCT infinity) come
  first, ties go to the earlier child.
* :func:`uct` is ``value / visits + c * sqrt(ln(parent_visits) / visits)``.
* Backpropagation (:func:`backpropagate`) adds the reward to the node and every ancestor
  and counts one visit on each, so ``value / visits`` is the mean reward below a node.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SearchNode", "ROOT_ID", "new_tree", "add_child", "uct", "is_expandable", "select", "backpropagate",
           "trajectory", "best_answer", "tree_from_state", "tree_to_state"]

ROOT_ID = "n0"
"""Id of the root node."""


@dataclass
class SearchNode:
    """One node of the search tree: an action taken after its parent's trajectory."""

    node_id: str
    """``n<k>``, k in creation order (the root is ``n0``)."""
    parent_id: str | None
    """Parent node id (None for the root)."""
    depth: int
    """Actions from the root (the root is 0)."""
    action: str
    """``root``, ``search`` (a tool call) or ``answer`` (terminal)."""
    tool: str | None = None
    """Tool called by a ``search`` node."""
    query: str | None = None
    """Query of a ``search`` node."""
    observation: str = ""
    """Tool results of a ``search`` node."""
    answer: str | None = None
    """Answer of an ``answer`` node ('' for an empty one)."""
    score: float | None = None
    """The reflection's score (0..1); None until reflected."""
    solved: bool = False
    """The reflection judged this answer to solve the task."""
    value: float = 0.0
    """Sum of rewards backpropagated through this node."""
    visits: int = 0
    """Rewards backpropagated through this node."""
    children: list[str] = field(default_factory=list)
    """Child node ids in creation order."""

    @property
    def terminal(self) -> bool:
        return self.action == "answer"


def new_tree() -> dict[str, SearchNode]:
    """A tree holding only the root."""
    return {ROOT_ID: SearchNode(ROOT_ID, None, 0, "root")}


def add_child(tree: dict[str, SearchNode], parent_id: str, **fields: Any) -> SearchNode:
    """Create the next node under ``parent_id`` (id ``n<len(tree)>``)."""
    parent = tree[parent_id]
    node = SearchNode(f"n{len(tree)}", parent_id, parent.depth + 1, **fields)
    tree[node.node_id] = node
    parent.children.append(node.node_id)
    return node


def uct(value: float, visits: int, parent_visits: int, c: float = 1.0) -> float:
    """Upper confidence bound for trees; ``inf`` for an unvisited node."""
    if visits <= 0:
        return math.inf
    return value / visits + c * math.sqrt(math.log(max(parent_visits, 1)) / visits)


def is_expandable(tree: dict[str, SearchNode], node_id: str, max_depth: int) -> bool:
    """Whether selection may still reach a leaf to expand at or under ``node_id``."""
    node = tree[node_id]
    if node.terminal or node.depth >= max_depth:
        return False
    if not node.children:
        return True
    return any(is_expandable(tree, c, max_depth) for c in node.children)


def select(tree: dict[str, SearchNode], *, c: float = 1.0, max_depth: int = 4) -> str | None:
    """The leaf to expand next (see the module docstring); None when nothing is expandable."""
    if not is_expandable(tree, ROOT_ID, max_depth):
        return None
    node = tree[ROOT_ID]
    while node.children:
        options = [tree[k] for k in node.children if is_expandable(tree, k, max_depth)]
        best = options[0]
        best_u = uct(best.value, best.visits, node.visits, c)
        for opt in options[1:]:
            u = uct(opt.value, opt.visits, node.visits, c)
            if u > best_u:  # strict: ties keep the earlier child
                best, best_u = opt, u
        node = best
    return node.node_id


def backpropagate(tree: dict[str, SearchNode], node_id: str, reward: float) -> None:
    """Add ``reward`` and one visit to ``node_id`` and each of its ancestors."""
    cur: str | None = node_id
    while cur is not None:
        node = tree[cur]
        node.value += reward
        node.visits += 1
        cur = node.parent_id


def trajectory(tree: dict[str, SearchNode], node_id: str) -> list[SearchNode]:
    """Nodes from the root's first child down to ``node_id`` (the root holds no action)."""
    path = []
    cur: str | None = node_id
    while cur is not None and cur != ROOT_ID:
        path.append(tree[cur])
        cur = tree[cur].parent_id
    return path[::-1]


def best_answer(tree: dict[str, SearchNode]) -> SearchNode | None:
    """The answer node to report: a solved one first, then the highest score (earliest on ties)."""
    answers = [n for n in tree.values() if n.terminal and n.score is not None]
    if not answers:
        return None
    return max(answers, key=lambda n: (n.solved, n.score, -int(n.node_id[1:])))


def tree_to_state(tree: dict[str, SearchNode]) -> dict[str, dict[str, Any]]:
    """A JSON-friendly copy for the graph state."""
    return {k: asdict(v) for k, v in tree.items()}


def tree_from_state(data: dict[str, dict[str, Any]] | None) -> dict[str, SearchNode]:
    """The tree from its state form (a new tree when ``data`` is empty)."""
    if not data:
        return new_tree()
    return {k: SearchNode(**{**v, "children": list(v.get("children") or [])}) for k, v in data.items()}
