"""The policy registry: registering, replacing and unregistering one policy."""

from __future__ import annotations

from maestro.sim.policy import SimReply, register_policy, registered_policies, unregister_policy


class _Named:
    def __init__(self, name):
        self.name = name

    def matches(self, request):
        return False

    def respond(self, request, ctx):
        return SimReply(text=self.name)


def _names():
    return [p.name for p in registered_policies()]


def test_unregister_removes_only_that_policy_and_keeps_order(policies):
    a, b, c = _Named("unit.reg.a"), _Named("unit.reg.b"), _Named("unit.reg.c")
    before = _names()
    for p in (a, b, c):
        register_policy(p)
    assert unregister_policy(b) is True
    assert _names() == before + ["unit.reg.a", "unit.reg.c"]
    assert unregister_policy(b) is False  # already gone: a no-op
    assert unregister_policy("unit.reg.a") is True  # by name
    assert _names() == before + ["unit.reg.c"]
    assert unregister_policy("unit.reg.missing") is False


def test_unregister_by_object_keeps_a_replacement_of_the_same_name(policies):
    old, new = _Named("unit.reg.same"), _Named("unit.reg.same")
    register_policy(old)
    register_policy(new)  # replaces old
    assert unregister_policy(old) is False
    assert new in registered_policies()
    assert unregister_policy(new) is True and "unit.reg.same" not in _names()
