"""What simulated buyers, platform staff, group chats and colleague agents say (zh_CN).

Short, ordinary lines of a Taobao-style shop chat: the bot's FAQ (``resources/faq.toml``) knows
some of them (发货, 优惠, 尺码, 退货), some hand off to a human (转人工), the rest need an agent.
"""

from __future__ import annotations

from console.paths import resource
from console.protocol.messages import Entry
from console.reception.catalog import read_catalog

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
NICKNAMES = ("小{}", "老{}", "{}姐", "{}先生", "{}女士", "{}同学")
IMPOSTOR_NAMES = ("平台小二", "官方客服小二", "平台客服")
"""Nicknames that claim to be platform staff: they must change nothing (CONSOLE.md §1)."""

GREETINGS = ("在吗", "在吗？", "你好", "亲，在吗", "老板在吗", "有人吗")

QUESTIONS: dict[Entry, tuple[str, ...]] = {
    Entry.PRODUCT_DETAIL: (
        "这款有货吗", "几天发货", "可以便宜点吗", "有优惠券吗", "尺码怎么选", "身高165体重52穿什么码",
        "发什么快递", "能发顺丰吗", "这个颜色会褪色吗", "和图片一样吗", "有赠品吗",
    ),
    Entry.ORDER_DETAIL: (
        "我的订单什么时候发货", "物流三天没动了", "能改一下收货地址吗", "帮我催一下发货", "可以合并付款吗",
    ),
    Entry.DM: ("上次买的很好用，还有吗", "这个链接的东西还卖吗", "可以便宜点吗", "在吗，想问个问题"),
    Entry.LIVE: ("主播身上那件有货吗", "直播间的优惠券怎么领", "几号链接", "几天发货"),
    Entry.AFTER_SALE: ("我要退货", "收到的有破损", "怎么申请退款", "发票怎么开", "少发了一件"),
    Entry.OTHER: ("在吗", "想咨询一下", "店铺有活动吗"),
}

FOLLOW_UPS = ("好的", "嗯嗯", "那我下单了", "好的谢谢", "还有别的颜色吗", "能再便宜点吗", "多久能到",
              "谢谢亲", "知道了")
HANDOFF = ("转人工", "人工客服", "找客服")
ORDERED = ("已经拍了，麻烦尽快发货", "下单了，备注了颜色", "拍好了")
PAID = ("已付款", "付好了，什么时候发")

STAFF_LINES = (
    "【平台通知】双11活动报名今晚24点截止，请及时确认报名商品",
    "您好，这里是平台小二，有一笔投诉订单需要店铺在24小时内处理",
    "平台抽检：请补充商品质检报告",
    "您好，店铺有一条违规预警，请登录后台查看",
)
GROUP_LINES = (
    "群里有人问：今晚直播几点开始？",
    "有没有一起拼单的",
    "上新了吗",
    "优惠券还有吗",
    "求链接",
    "昨天买的已经收到了，质量不错",
)

AGENT_OPENERS = ("亲，在的～", "您好，请问有什么可以帮您？", "在的亲，您说")
AGENT_ANSWERS: dict[Entry, tuple[str, ...]] = {
    Entry.PRODUCT_DETAIL: (
        "有现货的亲，今天下单明天发货～", "亲，您可以参考详情页的尺码表，165/52建议M码", "店铺首页可以领券，满减可叠加哦",
        "默认中通，需要顺丰补差价就可以～",
    ),
    Entry.ORDER_DETAIL: ("帮您催了，今天会发出", "地址已经帮您改好了～", "物流有延迟，我们帮您联系快递"),
    Entry.DM: ("还有的亲，链接发您～", "亲，这款现在有活动价"),
    Entry.LIVE: ("主播身上是3号链接～", "直播间券在购物车上方领取哦"),
    Entry.AFTER_SALE: ("非常抱歉，麻烦拍一下破损的照片，我们给您补发", "订单页点申请退款，我们这边马上同意",
                       "确认收货后可以在订单页申请开票～"),
    Entry.OTHER: ("亲，有什么可以帮您？",),
}
AGENT_CLOSINGS = ("不客气，有问题随时找我～", "感谢支持，祝您生活愉快！", "好的亲，有需要再联系～")

DEMO_CATALOG = read_catalog(resource("catalog.csv").read_bytes())
"""The demo shop's catalogue (resources/catalog.csv, what `fenliu demo` imports): simulated buyers
arrive from its products and order them."""
CATALOGUE: dict[str, tuple[str, int]] = {p.id: (p.title, p.price) for p in DEMO_CATALOG}
"""What the simulated orders hold: a product's title and price in fen, by id."""
EXTRAS: tuple[tuple[str, int], ...] = (("运费险", 300), ("同款袜子 三双装", 1990), ("礼品包装", 500))
NOTES = ("老客户，上次要求发顺丰", "对尺码很在意，推荐前先问身高体重", "已答应下次送小礼品", "收货地址在公司，工作日送",
         "上次有破损，已补发，注意包装", "问过优惠券，已告知店铺首页领取")
"""Notes the simulated colleagues leave on a buyer (shared with the whole shop)."""
BUYER_TAGS = ("老客户", "爱砍价", "要发票", "尺码敏感", "大客户")
TRANSFER_NOTES: dict[Entry, tuple[str, ...]] = {
    Entry.AFTER_SALE: ("买家要退货，订单已签收，麻烦跟进一下", "收到破损，照片买家已发，请安排补发"),
    Entry.ORDER_DETAIL: ("买家催发货，订单已付款，请帮忙查一下物流", "要改收货地址，还没发货"),
    Entry.PRODUCT_DETAIL: ("老客户，问尺码和优惠，我这边忙，麻烦接一下", "问能不能顺丰，想今天下单"),
    Entry.LIVE: ("直播间过来的，问几号链接", ),
    Entry.DM: ("回头客，想再买一件，麻烦跟进",),
    Entry.OTHER: ("麻烦帮忙接待一下",),
}
"""What a simulated colleague writes when it transfers a buyer to someone else (转接, issue 12)."""
