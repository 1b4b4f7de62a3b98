"""The server's refusals and the connection's troubles in the console's language.

The server writes its error texts in English for logs and tools; the console shows a text chosen
by the error's code (``ErrorCode``), translated like every other text, so the Chinese console
never shows an English sentence (issue 12, defect 9). The server's own words stay in the log.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from console.client.errors import ClientError, ConnectionLost, NotConnected, RequestTimeout
from console.protocol.messages import ErrorCode


def code_text(code: ErrorCode) -> str:
    """What an error code means to an agent."""
    texts = {
        ErrorCode.MALFORMED: QCoreApplication.translate("ServerError", "服务器无法读取这条请求（客户端与服务器版本不符？）"),
        ErrorCode.OVERSIZED: QCoreApplication.translate("ServerError", "内容太长，服务器拒收"),
        ErrorCode.UNKNOWN_TYPE: QCoreApplication.translate("ServerError", "服务器不认识这条请求（客户端与服务器版本不符？）"),
        ErrorCode.INVALID: QCoreApplication.translate("ServerError", "内容不符合要求"),
        ErrorCode.UNAUTHENTICATED: QCoreApplication.translate("ServerError", "账号或密码错误，或登录已过期"),
        ErrorCode.FORBIDDEN: QCoreApplication.translate("ServerError", "无权操作：这不是您的会话，或需要主管权限"),
        ErrorCode.NOT_FOUND: QCoreApplication.translate("ServerError", "找不到该会话、客服或入口"),
        ErrorCode.RATE_LIMITED: QCoreApplication.translate("ServerError", "操作太频繁，请稍后再试"),
        ErrorCode.CONFLICT: QCoreApplication.translate("ServerError", "会话状态已变化：可能已结束，或已被他人接待"),
        ErrorCode.BAD_POLICY: QCoreApplication.translate("ServerError", "分流策略文件有误"),
        ErrorCode.BAD_IMAGE: QCoreApplication.translate(
            "ServerError", "图片无法使用：不是 PNG、JPEG、GIF、WebP 图片，已损坏，或像素过多"),
        ErrorCode.INTERNAL: QCoreApplication.translate("ServerError", "服务器出错，未做任何更改"),
    }
    return texts[code]


def error_text(error: BaseException) -> str:
    """A request's failure, for the agent: by code when the server refused, else by kind."""
    if isinstance(error, ClientError):
        if error.code is ErrorCode.NOT_FOUND and error.field == "shop":  # issue 15: at login
            return QCoreApplication.translate(
                "ServerError", "服务器上没有这个店铺，或服务器有几个店铺而没有填写店铺：请在“店铺”一栏填写店铺名")
        if error.code is not None:
            return code_text(error.code)
        if isinstance(error, NotConnected):
            return QCoreApplication.translate("ServerError", "未连接服务器")
        if isinstance(error, ConnectionLost):
            return QCoreApplication.translate("ServerError", "与服务器的连接中断，结果未知")
        if isinstance(error, RequestTimeout):
            return QCoreApplication.translate("ServerError", "服务器没有及时应答")
        return QCoreApplication.translate("ServerError", "无法连接服务器")
    return QCoreApplication.translate("ServerError", "出现意外错误：%1").replace("%1", type(error).__name__)


def transfer_error_text(error: ClientError) -> str:
    """Why a transfer (转接, R3.5) was refused, in the agent's words: by code and field."""
    if error.code is ErrorCode.FORBIDDEN:
        return QCoreApplication.translate("ServerError", "这不是您接待中的会话，不能转接")
    if error.code is ErrorCode.CONFLICT and error.field == "agent":
        return QCoreApplication.translate("ServerError", "对方已离线（或已在接待这位买家），不能转接")
    if error.code is ErrorCode.CONFLICT and error.field == "group":
        return QCoreApplication.translate("ServerError", "该分组现在没有能接待的客服，且不排队，不能转接")
    if error.code is ErrorCode.CONFLICT:
        return QCoreApplication.translate("ServerError", "会话已结束或已不在您这里，不能转接")
    if error.code is ErrorCode.NOT_FOUND:
        return QCoreApplication.translate("ServerError", "找不到这位同事或分组（策略可能已更改）")
    if error.code is ErrorCode.INVALID:
        return QCoreApplication.translate("ServerError", "备注最多 200 字")
    return error_text(error)
