"""A readable description of a policy: what ``fenliu policy check`` prints."""

from __future__ import annotations

from console.routing.durations import format_duration
from console.routing.policy import Policy


def describe(policy: Policy) -> str:
    q, r = policy.queue, policy.recent
    queuing = policy.queuing_group_ids()
    lines = [
        f"policy OK: preset {policy.preset}, time zone {policy.timezone}, seed {policy.seed}",
        f"  pick {policy.pick.value}; recent contact: any status {format_duration(r.any_status)}, "
        f"window {format_duration(r.window)}, respect cap {'on' if r.respect_cap else 'off'}, "
        f"same group first {'on' if r.same_group_first else 'off'}",
        f"  queue {q.mode.value}" + (f" (groups: {', '.join(sorted(queuing))})" if q.mode.value == "groups" else "")
        + f", avg handle {format_duration(q.avg_handle)}, repeat window {format_duration(q.repeat_window)}, "
        f"overflow {'on' if q.overflow else 'off'}",
        f"  offline {policy.offline.mode.value}"
        + (f" -> {policy.offline.main}" if policy.offline.mode.value == "main" else "")
        + (f" -> {policy.offline.proxy}" if policy.offline.mode.value == "proxy" else "")
        + (f" -> {', '.join(policy.offline.agents) or 'pool (empty list)'}" if policy.offline.mode.value == "list" else "")
        + f"; bot first {'on' if policy.bot.shop_first else 'off'}; idle close {format_duration(policy.close_after)}",
        f"groups ({len(policy.groups)}):" if policy.groups else "groups: none (every routable agent in one group, R6.2)",
    ]
    for g in policy.groups:
        members = [a.id for a in policy.agents if g.id in a.groups]
        bindings = [f"{name} {', '.join(values)}" for name, values in (
            ("crowd", g.crowd), ("products", g.products), ("entries", g.entries), ("intents", g.intents),
            ("orders", g.orders)) if values]
        lines.append(f"  {g.id} ({g.name}): pick {g.pick.value}, cap {g.cap}"
                     + (", bot" if g.bot else "") + (", queues" if g.id in queuing else "")
                     + f"; agents {', '.join(members) or 'none'}"
                     + (f"; {'; '.join(bindings)}" if bindings else ""))
    lines.append(f"agents ({len(policy.agents)}):")
    for a in policy.agents:
        lines.append(f"  {a.id} ({a.name}): {a.role.value}, level {a.level}, cap {a.cap}, "
                     f"{'routable' if a.routable else 'not routable'}, groups {', '.join(a.groups) or 'none'}")
    lines.append("overridden from the preset: " + (", ".join(policy.overridden) or "nothing"))
    return "\n".join(lines)
