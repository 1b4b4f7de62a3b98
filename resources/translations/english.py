"""Fill ``fenliu_en.ts`` with the English texts, then compile it.

    .venv/bin/pyside6-lupdate console/ui/*.py -ts resources/translations/fenliu_en.ts -target-language en
    .venv/bin/python resources/translations/english.py
    .venv/bin/pyside6-lrelease resources/translations/fenliu_en.ts

Chinese is the source language of the console; every text is translated by its source alone.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ENGLISH = {
    "zh": "en",  # the language marker read by console.ui.labels
    "%1 (%2)": "%1 (%2)",
    "24小时内最近联系人（挂起也分配）": "Recent contact within 24 h (assigned even when suspended)",
    "专属客服直连": "Exclusive agent, direct",
    "主管转接": "Transferred by a supervisor",
    "买家 ID": "Buyer ID",
    "今日接待": "Received today",
    "从左侧选择一个会话开始接待\nCtrl+↑ 跳到等待最久的买家":
        "Pick a conversation on the left to start\nCtrl+↑ jumps to the buyer waiting longest",
    "会话": "Conversation",
    "会话未结束，仍由原接待方处理": "Session still open, kept by its holder",
    "全店排队": "Shop queue",
    "全店机器人优先": "Shop-wide bot first",
    "全部": "All",
    "分流 接待台": "Fenliu console",
    "分流接待台 · %1": "Fenliu console · %1",
    "分组内无人可接，分给全店其他客服": "Nobody free in the groups, given to another agent of the shop",
    "分组已满，溢出给其他客服": "Groups full, overflowed to another agent",
    "分配": "Routed",
    "分配原因": "Why?",
    "分配原因：%1": "Why: %1",
    "刷新": "Refresh",
    "匹配的分组开启了机器人": "The matched groups use the bot",
    "原因": "Reason",
    "原客服离线，重新分配": "Agent went offline, routed again",
    "去向": "To",
    "发送": "Send",
    "发送 (%1)": "Send (%1)",
    "发送中…": "Sending…",
    "取消": "Cancel",
    "团队": "Team",
    "团队接待数据": "Team figures",
    "在线": "Online",
    "客服": "Agent",
    "客服从留言池认领": "Claimed from the message pool",
    "客服接待已满，进入排队": "Agents full, queued",
    "客服结束了会话": "Closed by the agent",
    "密码": "Password",
    "小二": "Platform staff",
    "已付款": "Paid",
    "已回复": "Replied",
    "已被自动回复": "Bot replied",
    "已连接": "Connected",
    "当前接待 / 接待上限": "Open sessions / cap",
    "待回复": "Pending",
    "拖动可调整顺序": "Drag to reorder",
    "挂起": "Suspended",
    "按分组匹配和分配策略选中": "Picked by group matching and the pick strategy",
    "排队": "Queues",
    "排队人数": "Waiting",
    "排队模式下重复入线，回到上次接待的客服": "Repeat entry in queue mode, back to the last agent",
    "排队：%1": "Queue: %1",
    "接待": "Reception",
    "接待中 %1/%2": "Serving %1/%2",
    "接待中/上限": "Load/cap",
    "接待列表分组": "Group the reception list",
    "提醒": "Alerts",
    "数据实时推送；点击立即重新获取": "Figures are pushed live; click to fetch them now",
    "新买家任务栏提醒": "Taskbar alert for new buyers",
    "新买家声音提醒": "Sound for new buyers",
    "新的待回复买家": "New buyer waiting",
    "无人可接待，分给主账号": "Nobody available, given to the main account",
    "无人可接待，分给代理账号": "Nobody available, given to the proxy account",
    "无人可接待，分给离线分流名单": "Nobody available, given to the offline list",
    "无人可接待，进入全店排队": "Nobody available, queued for the shop",
    "无人可接待，进入留言池": "Nobody available, left in the message pool",
    "时间": "Time",
    "昨日3分钟响应率": "3-min response (yesterday)",
    "昨日平均响应时长": "Avg response (yesterday)",
    "昨日满意度": "Satisfaction (yesterday)",
    "最近联系人优先（该客服可接待）": "Recent contact first (agent available)",
    "最近联系人挂起，分给其同组同事": "Recent contact suspended, given to a colleague of the group",
    "最近联系人离线，由机器人接待": "Recent contact offline, served by the bot",
    "最长等待": "Longest wait",
    "有客服空出，排队结束": "An agent became free, left the queue",
    "服务器": "Server",
    "未下单": "Not ordered",
    "未付款": "Not paid",
    "未连接": "Disconnected",
    "机器人": "Bot",
    "机器人转人工": "Bot handed off to a human",
    "没有这位买家的分配记录": "No routing decisions for this buyer",
    "清扫": "Clear",
    "清除筛选": "Clear filter",
    "点击筛选接待列表中的这些买家（最近 200 位）": "Click to show these buyers in the reception list (latest 200)",
    "状态": "Status",
    "留言池": "Message pool",
    "登录": "Sign in",
    "登录分流接待台": "Sign in to Fenliu",
    "确认离线": "Go offline?",
    "离线": "Offline",
    "离线，连接恢复后发送": "Offline: will be sent when the connection is back",
    "等待 %1": "waiting %1",
    "筛选：%1（%2 人）": "Filter: %1 (%2 buyers)",
    "结束": "Closed",
    "结束会话": "Close session",
    "结果": "Outcome",
    "群聊": "Groups",
    "规则": "Rule",
    "视图": "View",
    "认领": "Claim",
    "询单转化率": "Inquiry conversion",
    "语言": "Language",
    "语言将在重新启动后切换": "The language changes at the next start",
    "请填写服务器、账号和密码": "Please fill in server, account and password",
    "账号": "Account",
    "跳到等待最久的买家": "Jump to the buyer waiting longest",
    "转接": "Transfer",
    "转接…": "Transfer…",
    "转接给：": "Transfer to:",
    "转接：%1": "Transfer: %1",
    "输入回复，Ctrl+Enter 发送": "Type a reply, Ctrl+Enter sends",
    "还有 %1 位买家在等待回复。离线后他们将被分配给其他同事（R3.3）。\n确定离线吗？":
        "%1 buyers are still waiting for a reply. Going offline routes them to colleagues (R3.3).\nGo offline?",
    "连接中…": "Connecting…",
    "重连中…": "Reconnecting…",
    "长时间无人说话，会话自动结束": "Closed after a long silence",
    "队列": "Queue",
    "预估等待": "Estimated wait",
    "饱和度": "Saturation",
    "（已结束）": " (closed)",
    # found by lupdate in bridge.py and reception_view.py, not translated before (issue 13's run)
    "接待列表": "Reception list",
    "切换状态": "Change status",
    "接入": "Claim",
    "刷新数据": "Refresh data",
    "筛选": "Filter",
    "团队数据": "Team data",
    "回复未能发送：": "Reply not sent: ",
    # search (issue 13)
    "聊天": "Chat",
    "昵称": "Name",
    "订单": "Order",
    "商品": "Product",
    "会话中": "In session",
    "搜索": "Search",
    "打开会话": "Open conversation",
    "搜索会话": "Search conversations",
    "搜索会话…": "Search conversations…",
    "买家昵称、订单号、商品或聊天内容": "Buyer name, order number, product or chat text",
    "更早的结果": "Older results",
    "在接待台打开": "Open in the reception list",
    "再次联系买家，Ctrl+Enter 发送": "Write to the buyer again, Ctrl+Enter sends",
    "搜索中…": "Searching…",
    "%1 条结果": "%1 results",
    "没有找到": "Nothing found",
    "会话进行中，可以直接回复买家": "Session open: you can reply to the buyer",
    "会话进行中，由其他接待方处理（只读）": "Session open, handled by someone else (read-only)",
    "会话已结束（只读），买家再次发消息时会重新分配": "Session closed (read-only); the buyer is routed again when they write",
}


def fill(path: Path) -> list[str]:
    """Write the English texts into the .ts file; return the sources still without one."""
    tree = ET.parse(path)
    missing = []
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        assert translation is not None
        if source in ENGLISH:
            translation.text = ENGLISH[source]
            translation.attrib.pop("type", None)
        else:
            missing.append(source)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return missing


if __name__ == "__main__":
    missing = fill(Path(__file__).with_name("fenliu_en.ts"))
    for source in missing:
        print("untranslated:", source, file=sys.stderr)
    sys.exit(1 if missing else 0)
