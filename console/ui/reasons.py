"""Routing reasons (ROUTING.md §12) and targets in plain words, for the "why" dialog."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from console.protocol.holders import agent_of


def reason_text(why: str) -> str:
    texts = {
        "open_session": QCoreApplication.translate("Reasons", "会话未结束，仍由原接待方处理"),
        "repeat_entry": QCoreApplication.translate("Reasons", "排队模式下重复入线，回到上次接待的客服"),
        "recent_any_status": QCoreApplication.translate("Reasons", "24小时内最近联系人（挂起也分配）"),
        "recent": QCoreApplication.translate("Reasons", "最近联系人优先（该客服可接待）"),
        "recent_same_group": QCoreApplication.translate("Reasons", "最近联系人挂起，分给其同组同事"),
        "recent_offline_bot": QCoreApplication.translate("Reasons", "最近联系人离线，由机器人接待"),
        "offline_main": QCoreApplication.translate("Reasons", "无人可接待，分给主账号"),
        "offline_proxy": QCoreApplication.translate("Reasons", "无人可接待，分给代理账号"),
        "offline_pool": QCoreApplication.translate("Reasons", "无人可接待，进入留言池"),
        "offline_list": QCoreApplication.translate("Reasons", "无人可接待，分给离线分流名单"),
        "offline_queue": QCoreApplication.translate("Reasons", "无人可接待，进入全店排队"),
        "exclusive": QCoreApplication.translate("Reasons", "专属客服直连"),
        "shop_bot": QCoreApplication.translate("Reasons", "全店机器人优先"),
        "group_bot": QCoreApplication.translate("Reasons", "匹配的分组开启了机器人"),
        "group": QCoreApplication.translate("Reasons", "按分组匹配和分配策略选中"),
        "shop_fallback": QCoreApplication.translate("Reasons", "分组内无人可接，分给全店其他客服"),
        "queued": QCoreApplication.translate("Reasons", "客服接待已满，进入排队"),
        "dequeued": QCoreApplication.translate("Reasons", "有客服空出，排队结束"),
        "overflow": QCoreApplication.translate("Reasons", "分组已满，溢出给其他客服"),
        "reroute_offline": QCoreApplication.translate("Reasons", "原客服离线，重新分配"),
        "handoff": QCoreApplication.translate("Reasons", "机器人转人工"),
        "agent_close": QCoreApplication.translate("Reasons", "客服结束了会话"),
        "idle": QCoreApplication.translate("Reasons", "长时间无人说话，会话自动结束"),
        "transfer": QCoreApplication.translate("Reasons", "由接待的客服或主管转接"),
        "claimed": QCoreApplication.translate("Reasons", "客服从留言池认领"),
        "contact": QCoreApplication.translate("Reasons", "客服从搜索结果再次联系买家"),
    }
    return texts.get(why, why)


def event_text(event: str) -> str:
    texts = {
        "routed": QCoreApplication.translate("Reasons", "分配"),
        "queued": QCoreApplication.translate("Reasons", "排队"),
        "closed": QCoreApplication.translate("Reasons", "结束"),
    }
    return texts.get(event, event)


def target_text(to: str, agent_names: dict[str, str]) -> str:
    """``agent:ID`` → the agent's name; ``bot``, ``pool``, ``queue:G`` in words."""
    agent = agent_of(to)
    if agent is not None:
        return agent_names.get(agent, agent)
    if to == "bot":
        return QCoreApplication.translate("Reasons", "机器人")
    if to == "pool":
        return QCoreApplication.translate("Reasons", "留言池")
    if to == "queue:shop":
        return QCoreApplication.translate("Reasons", "全店排队")
    if to.startswith("queue:"):
        return QCoreApplication.translate("Reasons", "排队：%1").replace("%1", to.removeprefix("queue:"))
    return to
