"""Fill ``fenliu_en.ts`` with the English texts, then compile it.

    .venv/bin/pyside6-lupdate -no-obsolete console/ui/*.py -ts resources/translations/fenliu_en.ts -target-language en
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
    "导出报表": "Export report",
    "导出今日报表…": "Export today's report…",
    "每个会话一行、每位客服一行，XLSX 或 CSV": "One row per conversation and per agent, XLSX or CSV",
    "Excel 工作簿 (*.xlsx)": "Excel workbook (*.xlsx)",
    "CSV 文件 (*.csv)": "CSV files (*.csv)",
    "无法写入：%1": "Cannot write: %1",
    "已导出：%1": "Exported: %1",
    "正在读取今日数据…": "Reading today's data…",
    "排队买家": "Queued buyers",
    "客服会话": "Agent's conversations",
    "查看会话": "Open conversation",
    "查看会话：%1": "Conversation: %1",
    "只读：主管查看中，回复请转接给客服": "Read-only: you are watching; to reply, transfer to an agent",
    "买家": "Buyer",
    "点击排队或客服，查看其中的买家": "Click a queue or an agent to see its buyers",
    "按买家名称筛选": "Filter by buyer name",
    "查看": "Open",
    "位置": "Position",
    "已等待": "Waited",
    "等待回复": "Waiting for reply",
    "最新消息": "Last message",
    "排队：%1 · %2 人": "Queue: %1 · %2 buyers",
    "客服：%1 · %2 个会话": "Agent: %1 · %2 conversations",
    "结束与 %1 的会话？买家会收到会话结束的通知。": "End the session with %1? The buyer is told it has ended.",
    "昨日平均响应": "Avg response yesterday",
    "状态时长": "In status for",
    "%1 (%2)": "%1 (%2)",
    "24小时内最近联系人（挂起也分配）": "Recent contact within 24 h (assigned even when suspended)",
    "专属客服直连": "Exclusive agent, direct",
    "主管转接": "Transferred by a supervisor",
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
    # issue 12: the agent's desk
    "慢回复提醒": "Slow-reply reminder",
    "%1 已等待 %2 秒": "%1 has waited %2 s",
    "未发送：%1": "Not sent: %1",
    "切换状态": "Changing status",
    "打开会话": "Opening the conversation",
    "接入": "Claiming",
    "刷新数据": "Refreshing the figures",
    "筛选": "Filtering",
    "团队数据": "Team figures",
    "与服务器的连接已停止（登录已失效或服务器拒绝），请重新登录":
        "The connection to the server stopped (the login expired or the server refused it); please log in again",
    "回复未能发送：": "The reply was not sent: ",
    "会话已结束，不能再回复": "The session has ended; no more replies",
    "无法连接服务器 %1：服务器没有运行，或地址不对": "Cannot reach the server %1: it is not running, or the address is wrong",
    "无法连接服务器 %1（%2 秒内没有应答）": "Cannot reach the server %1 (no answer within %2 s)",
    "正在连接 %1 …": "Connecting to %1 …",
    "关闭": "Off",
    "等待 %1 秒时": "After %1 s of waiting",
    "结束与 %1 的会话吗？结束后不能再回复，买家再次来信时会重新分配。":
        "End the session with %1? No more replies can be sent in it; the buyer's next message is routed again.",
    "%1 等待已超过 %2 秒，请尽快回复": "%1 waited more than %2 s: please reply soon",
    "接待列表": "Reception list",
    "没有符合筛选的买家": "No buyer matches the filter",
    "暂无会话\n买家来咨询时会出现在这里": "No conversations yet\nBuyers show here when they write",
    "服务器无法读取这条请求（客户端与服务器版本不符？）":
        "The server could not read the request (do the console and the server versions differ?)",
    "内容太长，服务器拒收": "Too long: the server refused it",
    "服务器不认识这条请求（客户端与服务器版本不符？）":
        "The server does not know this request (do the console and the server versions differ?)",
    "内容不符合要求": "The content is not valid",
    "账号或密码错误，或登录已过期": "Wrong account or password, or the login expired",
    "无权操作：这不是您的会话，或需要主管权限": "Not allowed: not your conversation, or it needs a supervisor",
    "找不到该会话、客服或入口": "No such conversation, agent or entry",
    "操作太频繁，请稍后再试": "Too many requests: try again in a moment",
    "会话状态已变化：可能已结束，或已被他人接待": "The conversation changed: it may have ended or been taken by someone else",
    "分流策略文件有误": "The routing policy file has errors",
    "服务器出错，未做任何更改": "The server failed; nothing was changed",
    "未连接服务器": "Not connected to the server",
    "与服务器的连接中断，结果未知": "The connection dropped; the outcome is unknown",
    "服务器没有及时应答": "The server did not answer in time",
    "无法连接服务器": "Cannot reach the server",
    "出现意外错误：%1": "Unexpected error: %1",
    "买家新消息": "New message from a buyer",
    "静音": "Mute",
    "新消息声音提醒": "Sound on a new message",
    "慢回复提醒声音": "Sound on the slow-reply reminder",
    "窗口不在前台时：托盘通知和任务栏闪烁": "When the window is in the background: tray notification and taskbar flash",
    "提醒已静音": "Alerts muted",
    "提醒已恢复": "Alerts on again",
    "为什么分给我：%1（%2）": "Why this buyer came to me: %1 (%2)",
    "分配：%3 · %1（%2）": "Routed to %3 · %1 (%2)",
    # found by lupdate in bridge.py and reception_view.py, not translated before (issue 13's run)
    # search (issue 13)
    "聊天": "Chat",
    "昵称": "Name",
    "订单": "Order",
    "商品": "Product",
    "会话中": "In session",
    "搜索": "Search",
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
