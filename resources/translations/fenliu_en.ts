<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en">
<context>
    <name>AgentTransferDialog</name>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="87" />
        <source>转接：%1</source>
        <translation>Transfer: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="93" />
        <source>正在读取同事列表…</source>
        <translation>Loading colleagues…</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="97" />
        <source>给接手同事的备注（选填，最多 %1 字）</source>
        <translation>A note for the colleague who takes over (optional, at most %1 characters)</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="102" />
        <source>转接</source>
        <translation>Transfer</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="107" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="110" />
        <source>转接给（空闲的同事在前）：</source>
        <translation>Transfer to (free colleagues first):</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="113" />
        <source>备注（接手的同事会看到，买家看不到）：</source>
        <translation>Note (the colleague sees it, the buyer does not):</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="131" />
        <source>没有可以转接的同事或分组</source>
        <translation>No colleague or group to transfer to</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="133" />
        <source>离线的同事不能接收转接</source>
        <translation>Offline colleagues cannot take a transfer</translation>
    </message>
</context>
<context>
    <name>Alerter</name>
    <message>
        <location filename="../../console/ui/alerts.py" line="100" />
        <source>分流 接待台</source>
        <translation>Fenliu console</translation>
    </message>
    <message>
        <location filename="../../console/ui/alerts.py" line="141" />
        <source>新的待回复买家</source>
        <translation>New buyer waiting</translation>
    </message>
    <message>
        <location filename="../../console/ui/alerts.py" line="146" />
        <source>买家新消息</source>
        <translation>New message from a buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/alerts.py" line="151" />
        <source>慢回复提醒</source>
        <translation>Slow-reply reminder</translation>
    </message>
    <message>
        <location filename="../../console/ui/alerts.py" line="152" />
        <source>%1 已等待 %2 秒</source>
        <translation>%1 has waited %2 s</translation>
    </message>
</context>
<context>
    <name>Audit</name>
    <message>
        <location filename="../../console/ui/audit_view.py" line="45" />
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="46" />
        <source>转接</source>
        <translation>Transfer</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="47" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="48" />
        <source>应用策略</source>
        <translation>Policy applied</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="49" />
        <source>账号</source>
        <translation>Account</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="52" />
        <source>修改密码</source>
        <translation>Password changed</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="53" />
        <source>停用</source>
        <translation>Disabled</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="54" />
        <source>启用</source>
        <translation>Enabled</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="56" />
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="56" />
        <source>操作人</source>
        <translation>By</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="57" />
        <source>操作</source>
        <translation>Action</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="57" />
        <source>对象</source>
        <translation>Subject</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="58" />
        <source>变更</source>
        <translation>Change</translation>
    </message>
</context>
<context>
    <name>AuditView</name>
    <message>
        <location filename="../../console/ui/audit_view.py" line="247" />
        <source>按操作人、对象或内容筛选</source>
        <translation>Filter by who, subject or what</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="251" />
        <source>全部操作</source>
        <translation>All actions</translation>
    </message>
    <message>
        <location filename="../../console/ui/audit_view.py" line="290" />
        <source>%1 / %2 条</source>
        <translation>%1 / %2 entries</translation>
    </message>
</context>
<context>
    <name>BubbleDelegate</name>
    <message>
        <location filename="../../console/ui/bubble_delegate.py" line="114" />
        <source>机器人</source>
        <translation>Bot</translation>
    </message>
    <message>
        <location filename="../../console/ui/bubble_delegate.py" line="50" />
        <source>离线，连接恢复后发送</source>
        <translation>Offline: will be sent when the connection is back</translation>
    </message>
    <message>
        <location filename="../../console/ui/bubble_delegate.py" line="48" />
        <source>未发送：%1</source>
        <translation>Not sent: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/bubble_delegate.py" line="51" />
        <source>发送中…</source>
        <translation>Sending…</translation>
    </message>
    <message>
        <location filename="../../console/ui/bubble_delegate.py" line="161" />
        <source>图片无法显示</source>
        <translation>Cannot show the image</translation>
    </message>
</context>
<context>
    <name>BuyerPanel</name>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="85" />
        <source>订单</source>
        <translation>Order</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="86" />
        <source>来源</source>
        <translation>Came from</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="87" />
        <source>历史会话</source>
        <translation>Past sessions</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="88" />
        <source>备注（全店客服可见）</source>
        <translation>Notes (the whole shop sees them)</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="89" />
        <source>标签</source>
        <translation>Tags</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="33" />
        <source>未付款</source>
        <translation>Not paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="34" />
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="35" />
        <source>已发货</source>
        <translation>Shipped</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="36" />
        <source>交易成功</source>
        <translation>Completed</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="37" />
        <source>已关闭</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="38" />
        <source>售后中</source>
        <translation>After-sale</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="95" />
        <source>商品详情页</source>
        <translation>Product page</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="96" />
        <source>订单详情页</source>
        <translation>Order page</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="97" />
        <source>私信</source>
        <translation>Direct message</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="98" />
        <source>直播间</source>
        <translation>Live room</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="99" />
        <source>售后</source>
        <translation>After-sale</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="100" />
        <source>其他</source>
        <translation>Other</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="115" />
        <location filename="../../console/ui/buyer_panel.py" line="148" />
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="122" />
        <source>下单 %1，更新 %2</source>
        <translation>Ordered %1, updated %2</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="133" />
        <source>入口</source>
        <translation>Entry</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="138" />
        <source>商品</source>
        <translation>Product</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="139" />
        <source>问题</source>
        <translation>Question</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="140" />
        <source>意图</source>
        <translation>Intent</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="147" />
        <source>人群标签</source>
        <translation>Crowd tags</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="154" />
        <source>专属客服</source>
        <translation>Exclusive agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="280" />
        <location filename="../../console/ui/buyer_panel.py" line="507" />
        <source>进行中</source>
        <translation>going on</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="285" />
        <source>%1–%2 · %3 · %4 条</source>
        <translation>%1–%2 · %3 · %4 messages</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="293" />
        <source>%1
—— %2 %3</source>
        <translation>%1
— %2 %3</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="304" />
        <source>双击以只读方式查看这次会话</source>
        <translation>Double-click to read this session</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="346" />
        <source>买家信息</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="365" />
        <source>写一条备注，回车保存（全店客服可见）</source>
        <translation>Write a note, Enter saves it (the whole shop sees it)</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="370" />
        <location filename="../../console/ui/buyer_panel.py" line="371" />
        <source>加标签</source>
        <translation>Add tag</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="454" />
        <source>删除备注</source>
        <translation>Delete note</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="456" />
        <source>删除标签</source>
        <translation>Delete tag</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="462" />
        <source>查看这次会话</source>
        <translation>Read this session</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="486" />
        <source>历史会话（只读）：%1 · %2</source>
        <translation>Past session (read-only): %1 · %2</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="503" />
        <source>%1 开始，%2</source>
        <translation>Began %1, %2</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="509" />
        <source>%1 结束</source>
        <translation>ended %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/buyer_panel.py" line="512" />
        <source>。只读：不能在这里回复。</source>
        <translation>. Read-only: no replies from here.</translation>
    </message>
    <message>
        <location filename="../../console/ui/order_actions.py" line="43" />
        <source>发送订单</source>
        <translation>Send order</translation>
    </message>
    <message>
        <location filename="../../console/ui/order_actions.py" line="45" />
        <source>催付</source>
        <translation>Payment reminder</translation>
    </message>
</context>
<context>
    <name>CardPainter</name>
    <message>
        <location filename="../../console/ui/card_painter.py" line="43" />
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="50" />
        <source>商品 %1</source>
        <translation>Product %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="53" />
        <source>订单 %1</source>
        <translation>Order %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="55" />
        <source>催付 · 订单 %1</source>
        <translation>Payment reminder · order %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="56" />
        <source>待付款 %1</source>
        <translation>To pay %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="57" />
        <source>您的订单还未付款，库存有限，请尽快完成支付哦</source>
        <translation>Your order is not paid yet; stock is limited, please pay soon</translation>
    </message>
    <message>
        <location filename="../../console/ui/card_painter.py" line="84" />
        <source>商品图</source>
        <translation>Picture</translation>
    </message>
</context>
<context>
    <name>ClientBackend</name>
    <message>
        <location filename="../../console/ui/bridge.py" line="97" />
        <source>切换状态</source>
        <translation>Changing status</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="105" />
        <source>打开会话</source>
        <translation>Opening the conversation</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="112" />
        <source>发送</source>
        <translation>Send</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="124" />
        <location filename="../../console/ui/bridge.py" line="336" />
        <source>图片未能发送：</source>
        <translation>The image was not sent: </translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="126" />
        <source>发送图片</source>
        <translation>Sending an image</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="137" />
        <source>载入图片</source>
        <translation>Loading an image</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="140" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="143" />
        <source>清扫</source>
        <translation>Clear</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="146" />
        <source>接入</source>
        <translation>Claiming</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="152" />
        <source>刷新数据</source>
        <translation>Refreshing the figures</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="158" />
        <source>筛选</source>
        <translation>Filtering</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="165" />
        <source>分配原因</source>
        <translation>Why?</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="174" />
        <source>转接未完成：</source>
        <translation>Transfer not done: </translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="177" />
        <source>转接</source>
        <translation>Transfer</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="183" />
        <source>读取同事列表</source>
        <translation>Loading colleagues</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="189" />
        <source>团队数据</source>
        <translation>Team figures</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="195" />
        <source>买家信息</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="202" />
        <source>历史会话</source>
        <translation>Past sessions</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="207" />
        <source>发送卡片</source>
        <translation>Sending a card</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="214" />
        <source>搜索商品</source>
        <translation>Searching products</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="217" />
        <source>添加备注</source>
        <translation>Add a note</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="220" />
        <source>删除备注</source>
        <translation>Delete note</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="224" />
        <source>添加标签</source>
        <translation>Add a tag</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="227" />
        <source>删除标签</source>
        <translation>Delete tag</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="232" />
        <source>排队买家</source>
        <translation>Queued buyers</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="238" />
        <source>客服会话</source>
        <translation>Agent's conversations</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="246" />
        <source>查看会话</source>
        <translation>Open conversation</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="252" />
        <source>导出报表</source>
        <translation>Export report</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="258" />
        <source>审计日志</source>
        <translation>Audit log</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="265" />
        <source>今日图表</source>
        <translation>Today in pictures</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="271" />
        <source>读取策略</source>
        <translation>Reading the policy</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="285" />
        <source>试运行</source>
        <translation>Trial run</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="288" />
        <source>取消试运行</source>
        <translation>Cancel the trial run</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="295" />
        <source>应用策略</source>
        <translation>Policy applied</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="325" />
        <source>服务器要把连接转到未加密的地址，或在几台服务器间来回转，已拒绝：请联系管理员</source>
        <translation>A server tried to send the connection to an unencrypted address, or round in a loop between servers; refused. Please contact your administrator</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="328" />
        <source>与服务器的连接已停止（登录已失效或服务器拒绝），请重新登录</source>
        <translation>The connection to the server stopped (the login expired or the server refused it); please log in again</translation>
    </message>
    <message>
        <location filename="../../console/ui/bridge.py" line="337" />
        <source>回复未能发送：</source>
        <translation>The reply was not sent: </translation>
    </message>
</context>
<context>
    <name>ClientPhrases</name>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="105" />
        <source>读取快捷短语</source>
        <translation>Loading quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="108" />
        <source>添加快捷短语</source>
        <translation>Adding quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="111" />
        <location filename="../../console/ui/phrase_book.py" line="115" />
        <source>修改快捷短语</source>
        <translation>Changing a quick reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="118" />
        <source>删除快捷短语</source>
        <translation>Delete quick reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="121" />
        <source>调整快捷短语顺序</source>
        <translation>Reordering quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="128" />
        <source>读取订单号</source>
        <translation>Reading the order number</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="153" />
        <source>快捷短语：与服务器的连接中断，请稍后再试</source>
        <translation>Quick replies: the connection to the server broke, please try again</translation>
    </message>
</context>
<context>
    <name>ClientSearch</name>
    <message>
        <location filename="../../console/ui/search_bridge.py" line="40" />
        <source>搜索</source>
        <translation>Search</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_bridge.py" line="47" />
        <source>打开会话</source>
        <translation>Opening the conversation</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_bridge.py" line="54" />
        <source>再次联系</source>
        <translation>Message again</translation>
    </message>
</context>
<context>
    <name>Connection</name>
    <message>
        <location filename="../../console/ui/status_controls.py" line="27" />
        <source>连接中…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="28" />
        <source>已连接</source>
        <translation>Connected</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="29" />
        <source>重连中…</source>
        <translation>Reconnecting…</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="30" />
        <source>未连接</source>
        <translation>Disconnected</translation>
    </message>
</context>
<context>
    <name>ConversationPane</name>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="226" />
        <source>从左侧选择一个会话开始接待
Ctrl+↑ 跳到等待最久的买家</source>
        <translation>Pick a conversation on the left to start
Ctrl+↑ jumps to the buyer waiting longest</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="234" />
        <source>认领</source>
        <translation>Claim</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="235" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="477" />
        <source>输入回复，Ctrl+Enter 发送</source>
        <translation>Type a reply, Ctrl+Enter sends</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="269" />
        <source>发送</source>
        <translation>Send</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="254" />
        <source>图片</source>
        <translation>Image</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="256" />
        <source>发送图片（也可以粘贴 Ctrl+V 或拖入回复框）</source>
        <translation>Send an image (or paste it with Ctrl+V, or drop it on the reply box)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="261" />
        <source>表情 (%1)</source>
        <translation>Emoji (%1)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="262" />
        <source>表情</source>
        <translation>Emoji</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="266" />
        <source>商品</source>
        <translation>Product</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="267" />
        <source>从商品库发送商品卡片</source>
        <translation>Send a product card from the catalogue</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="271" />
        <source>发送 (%1)</source>
        <translation>Send (%1)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="361" />
        <source>为什么分给我：%1（%2）</source>
        <translation>Why this buyer came to me: %1 (%2)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="361" />
        <source>分配：%3 · %1（%2）</source>
        <translation>Routed to %3 · %1 (%2)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="393" />
        <source>选择图片</source>
        <translation>Choose an image</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="393" />
        <source>图片 (%1)</source>
        <translation>Images (%1)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="400" />
        <source>无法读取图片：%1</source>
        <translation>Cannot read the image: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="409" />
        <source>图片太大：最大 %1 MB</source>
        <translation>The image is too large: at most %1 MB</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="463" />
        <source>（已结束）</source>
        <translation> (closed)</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="473" />
        <source>会话已结束，不能再回复</source>
        <translation>The session has ended; no more replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="479" />
        <source>输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Alt+1…9 插入置顶短语</source>
        <translation>Type a reply, Ctrl+Enter to send; / searches quick replies, Alt+1…9 inserts a pinned one</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="480" />
        <source>输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Ctrl+1…9 插入置顶短语</source>
        <translation>Type a reply, Ctrl+Enter sends; / searches quick replies, Ctrl+1…9 insert pinned ones</translation>
    </message>
    <message>
        <location filename="../../console/ui/conversation_pane.py" line="535" />
        <source>没有第 %1 条置顶短语（在快捷短语管理中置顶）</source>
        <translation>No pinned quick reply number %1 (pin one in the quick-reply manager)</translation>
    </message>
</context>
<context>
    <name>DayView</name>
    <message>
        <location filename="../../console/ui/day_view.py" line="81" />
        <source>每5分钟进线与排队峰值</source>
        <translation>Arrivals and queue peak per 5 minutes</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="84" />
        <source>进线</source>
        <translation>Arrivals</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="86" />
        <source>排队</source>
        <translation>Queues</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="88" />
        <source>每小时3分钟回复率</source>
        <translation>3-minute response rate per hour</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="94" />
        <source>客服接待量</source>
        <translation>Each agent's load</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="98" />
        <source>分配原因占比</source>
        <translation>Share of routing reasons</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="104" />
        <source>时</source>
        <translation>hour</translation>
    </message>
    <message>
        <location filename="../../console/ui/day_view.py" line="130" />
        <source>%1 · 进线 %2 · 排队峰值 %3</source>
        <translation>%1 · %2 arrivals · queue peak %3</translation>
    </message>
</context>
<context>
    <name>FilterBar</name>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="30" />
        <source>清除筛选</source>
        <translation>Clear filter</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="44" />
        <source>筛选：%1（%2 人）</source>
        <translation>Filter: %1 (%2 buyers)</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <location filename="../../console/ui/image_viewer.py" line="53" />
        <source>查看图片</source>
        <translation>Image</translation>
    </message>
    <message>
        <location filename="../../console/ui/image_viewer.py" line="57" />
        <source>正在载入原图…（Esc 关闭）</source>
        <translation>Loading the full image… (Esc closes)</translation>
    </message>
    <message>
        <location filename="../../console/ui/image_viewer.py" line="79" />
        <source>图片无法显示</source>
        <translation>Cannot show the image</translation>
    </message>
    <message>
        <location filename="../../console/ui/image_viewer.py" line="82" />
        <source>%1 × %2（Esc 关闭）</source>
        <translation>%1 × %2 (Esc closes)</translation>
    </message>
    <message>
        <location filename="../../console/ui/image_viewer.py" line="87" />
        <source>原图载入失败：%1</source>
        <translation>Could not load the full image: %1</translation>
    </message>
</context>
<context>
    <name>KpiTile</name>
    <message>
        <location filename="../../console/ui/kpi_tiles.py" line="34" />
        <source>拖动可调整顺序</source>
        <translation>Drag to reorder</translation>
    </message>
    <message>
        <location filename="../../console/ui/kpi_tiles.py" line="36" />
        <source>点击筛选接待列表中的这些买家（最近 200 位）</source>
        <translation>Click to show these buyers in the reception list (latest 200)</translation>
    </message>
</context>
<context>
    <name>KpiTilesBar</name>
    <message>
        <location filename="../../console/ui/kpi_tiles.py" line="74" />
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../../console/ui/kpi_tiles.py" line="76" />
        <source>数据实时推送；点击立即重新获取</source>
        <translation>Figures are pushed live; click to fetch them now</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <location filename="../../console/ui/labels.py" line="15" />
        <source>zh</source>
        <translation>en</translation>
    </message>
    <message>
        <location filename="../../console/ui/labels.py" line="24" />
        <source>[图片]</source>
        <translation>[Image]</translation>
    </message>
    <message>
        <location filename="../../console/ui/labels.py" line="26" />
        <source>[商品]</source>
        <translation>[Product]</translation>
    </message>
    <message>
        <location filename="../../console/ui/labels.py" line="27" />
        <source>[订单]</source>
        <translation>[Order]</translation>
    </message>
    <message>
        <location filename="../../console/ui/labels.py" line="28" />
        <source>[催付]</source>
        <translation>[Payment reminder]</translation>
    </message>
</context>
<context>
    <name>LocalPhrases</name>
    <message>
        <location filename="../../console/ui/phrase_book.py" line="173" />
        <location filename="../../console/ui/phrase_book.py" line="201" />
        <source>团队短语由主管维护</source>
        <translation>Team quick replies are kept by supervisors</translation>
    </message>
</context>
<context>
    <name>Login</name>
    <message>
        <location filename="../../console/ui/run.py" line="106" />
        <source>无法连接服务器 %1：服务器没有运行，或地址不对</source>
        <translation>Cannot reach the server %1: it is not running, or the address is wrong</translation>
    </message>
    <message>
        <location filename="../../console/ui/run.py" line="107" />
        <source>无法连接服务器 %1（%2 秒内没有应答）</source>
        <translation>Cannot reach the server %1 (no answer within %2 s)</translation>
    </message>
    <message>
        <location filename="../../console/ui/run.py" line="235" />
        <source>店铺 %1：</source>
        <translation>Shop %1: </translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../console/ui/login.py" line="56" />
        <source>登录分流接待台</source>
        <translation>Sign in to Fenliu</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="62" />
        <source>服务器只有一个店铺时可不填</source>
        <translation>May stay empty when the server has one shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="71" />
        <source>服务器</source>
        <translation>Server</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="72" />
        <source>店铺</source>
        <translation>Shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="73" />
        <source>账号</source>
        <translation>Account</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="74" />
        <source>密码</source>
        <translation>Password</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="76" />
        <source>＋ 再添加一个店铺</source>
        <translation>+ One more shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="78" />
        <source>同时登录几个店铺的账号，Ctrl+1…9 切换店铺</source>
        <translation>Sign into several shops at once; Ctrl+1…9 switch shops</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="81" />
        <source>登录</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="82" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="97" />
        <source>添加店铺</source>
        <translation>Add shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="99" />
        <source>店铺名</source>
        <translation>Shop name</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="112" />
        <source>店铺 %1</source>
        <translation>Shop %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="113" />
        <source>账号 %1</source>
        <translation>Account %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="114" />
        <source>密码 %1</source>
        <translation>Password %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="140" />
        <source>正在连接 %1 …</source>
        <translation>Connecting to %1 …</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="164" />
        <source>请填写服务器、账号和密码</source>
        <translation>Please fill in server, account and password</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="167" />
        <source>请填写店铺</source>
        <translation>Please fill in the shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="175" />
        <source>登录几个店铺时，每个店铺都要填写店铺、账号和密码</source>
        <translation>With several shops, fill in shop, account and password for each</translation>
    </message>
    <message>
        <location filename="../../console/ui/login.py" line="179" />
        <source>同一个店铺填了两次</source>
        <translation>The same shop is listed twice</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../console/ui/main_window.py" line="151" />
        <source>接待</source>
        <translation>Reception</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="152" />
        <source>团队</source>
        <translation>Team</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="167" />
        <source>视图</source>
        <translation>View</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="168" />
        <source>接待列表分组</source>
        <translation>Group the reception list</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="170" />
        <source>跳到等待最久的买家</source>
        <translation>Jump to the buyer waiting longest</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="176" />
        <source>搜索会话…</source>
        <translation>Search conversations…</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="179" />
        <source>买家信息面板</source>
        <translation>Buyer panel</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="188" />
        <source>快捷短语</source>
        <translation>Quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="189" />
        <source>管理快捷短语…</source>
        <translation>Manage quick replies…</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="193" />
        <source>提醒</source>
        <translation>Alerts</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="194" />
        <source>静音</source>
        <translation>Mute</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="197" />
        <source>新买家声音提醒</source>
        <translation>Sound for new buyers</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="198" />
        <source>新消息声音提醒</source>
        <translation>Sound on a new message</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="200" />
        <source>慢回复提醒声音</source>
        <translation>Sound on the slow-reply reminder</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="202" />
        <source>窗口不在前台时：托盘通知和任务栏闪烁</source>
        <translation>When the window is in the background: tray notification and taskbar flash</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="210" />
        <source>慢回复提醒</source>
        <translation>Slow-reply reminder</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="214" />
        <source>关闭</source>
        <translation>Off</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="214" />
        <source>等待 %1 秒时</source>
        <translation>After %1 s of waiting</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="220" />
        <source>会话</source>
        <translation>Conversation</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="227" />
        <source>语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="443" />
        <location filename="../../console/ui/main_window.py" line="491" />
        <location filename="../../console/ui/main_window.py" line="495" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="447" />
        <source>分配原因</source>
        <translation>Why?</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="221" />
        <location filename="../../console/ui/main_window.py" line="445" />
        <source>转接…</source>
        <translation>Transfer…</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="460" />
        <source>只能转接您正在接待的会话</source>
        <translation>You can only transfer a session you hold</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="492" />
        <source>结束与 %1 的会话吗？结束后不能再回复，买家再次来信时会重新分配。</source>
        <translation>End the session with %1? No more replies can be sent in it; the buyer's next message is routed again.</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="496" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="522" />
        <source>不是可发送的图片（支持 PNG、JPEG、GIF、WebP）</source>
        <translation>Not an image that can be sent (PNG, JPEG, GIF, WebP)</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="568" />
        <source>提醒已静音</source>
        <translation>Alerts muted</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="568" />
        <source>提醒已恢复</source>
        <translation>Alerts on again</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="595" />
        <source>%1 等待已超过 %2 秒，请尽快回复</source>
        <translation>%1 waited more than %2 s: please reply soon</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="602" />
        <source>语言将在重新启动后切换</source>
        <translation>The language changes at the next start</translation>
    </message>
    <message>
        <location filename="../../console/ui/main_window.py" line="608" />
        <source>分流接待台 · %1</source>
        <translation>Fenliu console · %1</translation>
    </message>
</context>
<context>
    <name>MonitorDialog</name>
    <message>
        <location filename="../../console/ui/room_picker.py" line="175" />
        <source>查看会话：%1</source>
        <translation>Conversation: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="186" />
        <source>只读：主管查看中，回复请转接给客服</source>
        <translation>Read-only: you are watching; to reply, transfer to an agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="187" />
        <source>分配原因</source>
        <translation>Why?</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="188" />
        <source>转接…</source>
        <translation>Transfer…</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="189" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="190" />
        <source>关闭</source>
        <translation>Off</translation>
    </message>
</context>
<context>
    <name>PhraseEditor</name>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="90" />
        <source>编辑快捷短语</source>
        <translation>Edit quick reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="90" />
        <source>新建快捷短语</source>
        <translation>New quick reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="108" />
        <source>可用变量：{买家} {客服} {订单号}</source>
        <translation>Variables: {买家} (buyer) {客服} (agent) {订单号} (order number)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="109" />
        <source>置顶（回复框中 Alt+1…9 插入）</source>
        <translation>Pinned (Alt+1…9 in the reply box)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="110" />
        <source>置顶（回复框中 Ctrl+1…9 插入）</source>
        <translation>Pinned (Ctrl+1…9 in the reply box)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="114" />
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="115" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="117" />
        <source>所属</source>
        <translation>Set</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="118" />
        <source>分组</source>
        <translation>Group</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="119" />
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="120" />
        <source>内容</source>
        <translation>Text</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="135" />
        <source>标题和内容都不能为空</source>
        <translation>Title and text must not be empty</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="139" />
        <source>内容超过 %1 个字</source>
        <translation>The text is longer than %1 characters</translation>
    </message>
</context>
<context>
    <name>PhraseManager</name>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="51" />
        <source>团队短语</source>
        <translation>Team quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="52" />
        <source>我的短语</source>
        <translation>My quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="58" />
        <source>既不是 UTF-8 也不是 GBK 编码</source>
        <translation>neither UTF-8 nor GBK</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="59" />
        <source>第一行须为表头：分组,标题,内容,置顶</source>
        <translation>the first line must be the header 分组,标题,内容,置顶 (or group,title,text,pinned)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="60" />
        <source>应为 3 或 4 列，实际 %1 列</source>
        <translation>3 or 4 columns expected, found %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="61" />
        <source>标题为空</source>
        <translation>the title is empty</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="62" />
        <source>内容为空</source>
        <translation>the text is empty</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="63" />
        <source>标题超过 %1 个字</source>
        <translation>the title is longer than %1 characters</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="64" />
        <source>分组名超过 %1 个字</source>
        <translation>the group name is longer than %1 characters</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="65" />
        <source>内容超过 %1 个字</source>
        <translation>The text is longer than %1 characters</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="66" />
        <source>置顶一列只能填“是”或留空，不能是“%1”</source>
        <translation>the pinned column must be 是 or empty, not “%1”</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="67" />
        <source>文件中没有短语</source>
        <translation>no phrases in the file</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="68" />
        <source>一次最多导入 %1 条</source>
        <translation>at most %1 phrases per import</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="70" />
        <source>第 %1 行：</source>
        <translation>Line %1: </translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="153" />
        <source>快捷短语管理</source>
        <translation>Quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="158" />
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="158" />
        <source>内容</source>
        <translation>Text</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="158" />
        <source>置顶</source>
        <translation>Pinned</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="161" />
        <source>新建</source>
        <translation>New</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="162" />
        <source>编辑</source>
        <translation>Edit</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="163" />
        <source>置顶/取消</source>
        <translation>Pin / unpin</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="164" />
        <source>上移</source>
        <translation>Move up</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="165" />
        <source>下移</source>
        <translation>Move down</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="166" />
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="167" />
        <source>导入 CSV…</source>
        <translation>Import CSV…</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="168" />
        <source>导出 CSV…</source>
        <translation>Export CSV…</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="170" />
        <source>UTF-8 编码</source>
        <translation>UTF-8</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="171" />
        <source>GBK 编码（旧版 Excel）</source>
        <translation>GBK (older Excel)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="207" />
        <source>（主管维护，只读）</source>
        <translation> (kept by supervisors, read-only)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="312" />
        <source>删除快捷短语</source>
        <translation>Delete quick reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="313" />
        <source>删除“%1”吗？</source>
        <translation>Delete “%1”?</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="320" />
        <location filename="../../console/ui/phrase_manager.py" line="336" />
        <source>导入快捷短语</source>
        <translation>Import quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="320" />
        <location filename="../../console/ui/phrase_manager.py" line="347" />
        <source>CSV 文件 (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="330" />
        <source>无法读取文件：%1</source>
        <translation>Cannot read the file: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="337" />
        <source>文件有误，未导入任何短语。</source>
        <translation>The file has errors; nothing was imported.</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="347" />
        <location filename="../../console/ui/phrase_manager.py" line="356" />
        <location filename="../../console/ui/phrase_manager.py" line="362" />
        <source>导出快捷短语</source>
        <translation>Export quick replies</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="357" />
        <source>有的字 GBK 编码写不下（如表情符号），请改用 UTF-8 编码导出</source>
        <translation>Some characters (emoji, for instance) cannot be written in GBK; export as UTF-8 instead</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_manager.py" line="363" />
        <source>无法写入文件：%1</source>
        <translation>Cannot write the file: %1</translation>
    </message>
</context>
<context>
    <name>PhrasePopup</name>
    <message>
        <location filename="../../console/ui/phrase_popup.py" line="95" />
        <source>↑↓ 选择，Enter 插入，Esc 关闭</source>
        <translation>↑↓ choose, Enter inserts, Esc closes</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_popup.py" line="97" />
        <source>没有与“%1”相符的快捷短语</source>
        <translation>No quick reply matches “%1”</translation>
    </message>
    <message>
        <location filename="../../console/ui/phrase_popup.py" line="98" />
        <source>还没有快捷短语：在“快捷短语”菜单中添加</source>
        <translation>No quick replies yet: add some in the Quick replies menu</translation>
    </message>
</context>
<context>
    <name>ProductPicker</name>
    <message>
        <location filename="../../console/ui/product_picker.py" line="79" />
        <source>发送商品</source>
        <translation>Send a product</translation>
    </message>
    <message>
        <location filename="../../console/ui/product_picker.py" line="82" />
        <source>搜索商品：标题、编号或拼音首字母</source>
        <translation>Search products: title, id or pinyin initials</translation>
    </message>
    <message>
        <location filename="../../console/ui/product_picker.py" line="124" />
        <source>↑↓ 选择，Enter 发送给买家，Esc 关闭</source>
        <translation>↑↓ choose, Enter sends it to the buyer, Esc closes</translation>
    </message>
    <message>
        <location filename="../../console/ui/product_picker.py" line="126" />
        <source>没有与“%1”相符的商品</source>
        <translation>No product matches “%1”</translation>
    </message>
    <message>
        <location filename="../../console/ui/product_picker.py" line="127" />
        <source>商品库是空的：用 fenliu catalog import 导入</source>
        <translation>The catalogue is empty: import one with fenliu catalog import</translation>
    </message>
    <message>
        <location filename="../../console/ui/product_picker.py" line="134" />
        <source>搜索中…</source>
        <translation>Searching…</translation>
    </message>
</context>
<context>
    <name>Reasons</name>
    <message>
        <location filename="../../console/ui/reasons.py" line="10" />
        <source>会话未结束，仍由原接待方处理</source>
        <translation>Session still open, kept by its holder</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="11" />
        <source>排队模式下重复入线，回到上次接待的客服</source>
        <translation>Repeat entry in queue mode, back to the last agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="12" />
        <source>24小时内最近联系人（挂起也分配）</source>
        <translation>Recent contact within 24 h (assigned even when suspended)</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="13" />
        <source>最近联系人优先（该客服可接待）</source>
        <translation>Recent contact first (agent available)</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="14" />
        <source>最近联系人挂起，分给其同组同事</source>
        <translation>Recent contact suspended, given to a colleague of the group</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="15" />
        <source>最近联系人离线，由机器人接待</source>
        <translation>Recent contact offline, served by the bot</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="16" />
        <source>无人可接待，分给主账号</source>
        <translation>Nobody available, given to the main account</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="17" />
        <source>无人可接待，分给代理账号</source>
        <translation>Nobody available, given to the proxy account</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="18" />
        <source>无人可接待，进入留言池</source>
        <translation>Nobody available, left in the message pool</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="19" />
        <source>无人可接待，分给离线分流名单</source>
        <translation>Nobody available, given to the offline list</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="20" />
        <source>无人可接待，进入全店排队</source>
        <translation>Nobody available, queued for the shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="21" />
        <source>专属客服直连</source>
        <translation>Exclusive agent, direct</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="22" />
        <source>全店机器人优先</source>
        <translation>Shop-wide bot first</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="23" />
        <source>匹配的分组开启了机器人</source>
        <translation>The matched groups use the bot</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="24" />
        <source>按分组匹配和分配策略选中</source>
        <translation>Picked by group matching and the pick strategy</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="25" />
        <source>分组内无人可接，分给全店其他客服</source>
        <translation>Nobody free in the groups, given to another agent of the shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="26" />
        <source>客服接待已满，进入排队</source>
        <translation>Agents full, queued</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="27" />
        <source>有客服空出，排队结束</source>
        <translation>An agent became free, left the queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="28" />
        <source>分组已满，溢出给其他客服</source>
        <translation>Groups full, overflowed to another agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="29" />
        <source>原客服离线，重新分配</source>
        <translation>Agent went offline, routed again</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="30" />
        <source>机器人转人工</source>
        <translation>Bot handed off to a human</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="31" />
        <source>客服结束了会话</source>
        <translation>Closed by the agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="32" />
        <source>长时间无人说话，会话自动结束</source>
        <translation>Closed after a long silence</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="33" />
        <source>由接待的客服或主管转接</source>
        <translation>Transferred by its agent or a supervisor</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="34" />
        <source>客服从留言池认领</source>
        <translation>Claimed from the message pool</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="35" />
        <source>客服从搜索结果再次联系买家</source>
        <translation>The agent wrote to the buyer again from search</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="42" />
        <source>分配</source>
        <translation>Routed</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="43" />
        <source>排队</source>
        <translation>Queues</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="44" />
        <source>结束</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="55" />
        <source>机器人</source>
        <translation>Bot</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="57" />
        <source>留言池</source>
        <translation>Message pool</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="59" />
        <source>全店排队</source>
        <translation>Shop queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/reasons.py" line="61" />
        <source>排队：%1</source>
        <translation>Queue: %1</translation>
    </message>
</context>
<context>
    <name>ReceptionDelegate</name>
    <message>
        <location filename="../../console/ui/reception_delegate.py" line="199" />
        <source>清扫</source>
        <translation>Clear</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_delegate.py" line="234" />
        <source>等待 %1</source>
        <translation>waiting %1</translation>
    </message>
</context>
<context>
    <name>ReceptionView</name>
    <message>
        <location filename="../../console/ui/reception_view.py" line="101" />
        <source>接待列表</source>
        <translation>Reception list</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_view.py" line="152" />
        <source>没有符合筛选的买家</source>
        <translation>No buyer matches the filter</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_view.py" line="153" />
        <source>暂无会话
买家来咨询时会出现在这里</source>
        <translation>No conversations yet
Buyers show here when they write</translation>
    </message>
</context>
<context>
    <name>RoomPicker</name>
    <message>
        <location filename="../../console/ui/room_picker.py" line="49" />
        <source>买家</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="56" />
        <source>点击排队或客服，查看其中的买家</source>
        <translation>Click a queue or an agent to see its buyers</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="60" />
        <source>按买家名称筛选</source>
        <translation>Filter by buyer name</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="73" />
        <source>查看</source>
        <translation>Open</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="74" />
        <source>分配原因</source>
        <translation>Why?</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="75" />
        <source>转接…</source>
        <translation>Transfer…</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_picker.py" line="76" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
</context>
<context>
    <name>RoomPicks</name>
    <message>
        <location filename="../../console/ui/room_models.py" line="73" />
        <source>位置</source>
        <translation>Position</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_models.py" line="74" />
        <location filename="../../console/ui/room_models.py" line="80" />
        <source>买家</source>
        <translation>Buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_models.py" line="75" />
        <source>已等待</source>
        <translation>Waited</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_models.py" line="76" />
        <source>预估等待</source>
        <translation>Estimated wait</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_models.py" line="81" />
        <source>等待回复</source>
        <translation>Waiting for reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/room_models.py" line="82" />
        <source>最新消息</source>
        <translation>Last message</translation>
    </message>
</context>
<context>
    <name>SearchDelegate</name>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="76" />
        <source>聊天</source>
        <translation>Chat</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="77" />
        <source>昵称</source>
        <translation>Name</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="78" />
        <source>订单</source>
        <translation>Order</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="79" />
        <source>商品</source>
        <translation>Product</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="81" />
        <source>会话中</source>
        <translation>In session</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="82" />
        <source>可再次联系</source>
        <translation>can be messaged again</translation>
    </message>
</context>
<context>
    <name>SearchDialog</name>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="163" />
        <source>搜索会话</source>
        <translation>Search conversations</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="175" />
        <source>买家昵称、订单号、商品或聊天内容</source>
        <translation>Buyer name, order number, product or chat text</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="187" />
        <source>更早的结果</source>
        <translation>Older results</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="192" />
        <source>在接待台打开</source>
        <translation>Open in the reception list</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="194" />
        <source>再次联系</source>
        <translation>Message again</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="196" />
        <source>买家仍可联系：打开与买家的会话，然后在下面回复</source>
        <translation>The buyer can still be reached: open a session with them, then reply below</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="212" />
        <source>再次联系买家，Ctrl+Enter 发送</source>
        <translation>Write to the buyer again, Ctrl+Enter sends</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="214" />
        <source>发送</source>
        <translation>Send</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="296" />
        <location filename="../../console/ui/search_dialog.py" line="316" />
        <source>搜索中…</source>
        <translation>Searching…</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="333" />
        <source>%1 条结果</source>
        <translation>%1 results</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="333" />
        <source>没有找到</source>
        <translation>Nothing found</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="382" />
        <source>会话进行中，可以直接回复买家</source>
        <translation>Session open: you can reply to the buyer</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="384" />
        <source>会话进行中，由其他接待方处理（只读）</source>
        <translation>Session open, handled by someone else (read-only)</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="386" />
        <source>会话已结束（只读）；买家仍可联系：点“再次联系”后回复</source>
        <translation>The session ended (read-only); the buyer can still be reached: click “Message again”, then reply</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="388" />
        <source>会话已结束（只读），买家再次发消息时会重新分配</source>
        <translation>Session closed (read-only); the buyer is routed again when they write</translation>
    </message>
    <message>
        <location filename="../../console/ui/search_dialog.py" line="404" />
        <source>已再次联系：会话进行中，可以直接回复买家</source>
        <translation>Contacted again: the session is open, reply to the buyer directly</translation>
    </message>
</context>
<context>
    <name>Section</name>
    <message>
        <location filename="../../console/ui/reception_model.py" line="59" />
        <source>待回复</source>
        <translation>Pending</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_model.py" line="60" />
        <source>已被自动回复</source>
        <translation>Bot replied</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_model.py" line="61" />
        <source>已回复</source>
        <translation>Replied</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_model.py" line="62" />
        <source>小二</source>
        <translation>Platform staff</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_model.py" line="63" />
        <source>群聊</source>
        <translation>Groups</translation>
    </message>
    <message>
        <location filename="../../console/ui/reception_model.py" line="65" />
        <source>全部</source>
        <translation>All</translation>
    </message>
</context>
<context>
    <name>ServerError</name>
    <message>
        <location filename="../../console/ui/errors.py" line="19" />
        <source>服务器无法读取这条请求（客户端与服务器版本不符？）</source>
        <translation>The server could not read the request (do the console and the server versions differ?)</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="20" />
        <source>内容太长，服务器拒收</source>
        <translation>Too long: the server refused it</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="21" />
        <source>服务器不认识这条请求（客户端与服务器版本不符？）</source>
        <translation>The server does not know this request (do the console and the server versions differ?)</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="22" />
        <source>内容不符合要求</source>
        <translation>The content is not valid</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="23" />
        <source>账号或密码错误，或登录已过期</source>
        <translation>Wrong account or password, or the login expired</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="24" />
        <source>无权操作：这不是您的会话，或需要主管权限</source>
        <translation>Not allowed: not your conversation, or it needs a supervisor</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="25" />
        <source>找不到该会话、客服或入口</source>
        <translation>No such conversation, agent or entry</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="26" />
        <source>操作太频繁，请稍后再试</source>
        <translation>Too many requests: try again in a moment</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="27" />
        <source>会话状态已变化：可能已结束，或已被他人接待</source>
        <translation>The conversation changed: it may have ended or been taken by someone else</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="28" />
        <source>分流策略文件有误</source>
        <translation>The routing policy file has errors</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="29" />
        <source>图片无法使用：不是 PNG、JPEG、GIF、WebP 图片，已损坏，或像素过多</source>
        <translation>The image cannot be used: not a PNG, JPEG, GIF or WebP image, damaged, or too many pixels</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="31" />
        <source>服务器出错，未做任何更改</source>
        <translation>The server failed; nothing was changed</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="40" />
        <source>服务器上没有这个店铺，或服务器有几个店铺而没有填写店铺：请在“店铺”一栏填写店铺名</source>
        <translation>No such shop on this server, or the server has several shops and none was named: fill in the Shop field</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="45" />
        <source>未连接服务器</source>
        <translation>Not connected to the server</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="47" />
        <source>与服务器的连接中断，结果未知</source>
        <translation>The connection dropped; the outcome is unknown</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="49" />
        <source>服务器没有及时应答</source>
        <translation>The server did not answer in time</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="50" />
        <source>无法连接服务器</source>
        <translation>Cannot reach the server</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="51" />
        <source>出现意外错误：%1</source>
        <translation>Unexpected error: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="57" />
        <source>这不是您接待中的会话，不能转接</source>
        <translation>This is not a session you hold: it cannot be transferred</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="59" />
        <source>对方已离线（或已在接待这位买家），不能转接</source>
        <translation>That colleague is offline (or already has this buyer): not transferred</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="61" />
        <source>该分组现在没有能接待的客服，且不排队，不能转接</source>
        <translation>Nobody in that group can take the buyer now and it does not queue: not transferred</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="63" />
        <source>会话已结束或已不在您这里，不能转接</source>
        <translation>The session ended or is no longer yours: not transferred</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="65" />
        <source>找不到这位同事或分组（策略可能已更改）</source>
        <translation>No such colleague or group (the policy may have changed)</translation>
    </message>
    <message>
        <location filename="../../console/ui/errors.py" line="67" />
        <source>备注最多 200 字</source>
        <translation>The note is at most 200 characters</translation>
    </message>
</context>
<context>
    <name>ShiftsChart</name>
    <message>
        <location filename="../../console/ui/shifts_view.py" line="66" />
        <source>在线 %1 · 挂起 %2 · 休息 %3 次</source>
        <translation>online %1 · suspended %2 · %3 breaks</translation>
    </message>
</context>
<context>
    <name>ShopsWindow</name>
    <message>
        <location filename="../../console/ui/shops_window.py" line="71" />
        <source>＋ 添加店铺</source>
        <translation>+ Add shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/shops_window.py" line="72" />
        <source>再登录一个店铺的账号</source>
        <translation>Sign into one more shop's account</translation>
    </message>
    <message>
        <location filename="../../console/ui/shops_window.py" line="145" />
        <source>%1 · %5 · 未读 %2 · %3 %4</source>
        <translation>%1 · %5 · %2 unread · %3 %4</translation>
    </message>
    <message>
        <location filename="../../console/ui/shops_window.py" line="156" />
        <source>分流接待台 · %1 个店铺</source>
        <translation>Fenliu reception · %1 shops</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../../console/ui/status_controls.py" line="19" />
        <source>在线</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="20" />
        <source>挂起</source>
        <translation>Suspended</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="21" />
        <source>离线</source>
        <translation>Offline</translation>
    </message>
</context>
<context>
    <name>StatusControls</name>
    <message>
        <location filename="../../console/ui/status_controls.py" line="62" />
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="92" />
        <source>本店</source>
        <translation>This shop</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="93" />
        <source>全部店铺</source>
        <translation>All shops</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="94" />
        <source>状态只改本店，或同时改全部店铺</source>
        <translation>Change the status of this shop only, or of all shops at once</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="107" />
        <source>接待中 %1/%2</source>
        <translation>Serving %1/%2</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="108" />
        <source>当前接待 / 接待上限</source>
        <translation>Open sessions / cap</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="116" />
        <source>（已转到 %1）</source>
        <translation> (moved to %1)</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="117" />
        <source>本店由服务器 %1 接待：您填写的服务器把连接转到了那里。断线后仍先连您填写的服务器。</source>
        <translation>This shop is served by the server %1: the server you entered sent the connection there. After a disconnection the console asks the server you entered again.</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="149" />
        <source>确认离线</source>
        <translation>Go offline?</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="150" />
        <source>全部店铺还有 %1 位买家在等待回复。离线后他们将被分配给各店的其他同事（R3.3）。
确定全部店铺离线吗？</source>
        <translation>%1 buyers are waiting for a reply in all shops. Going offline hands them to colleagues in each shop (R3.3).
Go offline in all shops?</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="152" />
        <source>还有 %1 位买家在等待回复。离线后他们将被分配给其他同事（R3.3）。
确定离线吗？</source>
        <translation>%1 buyers are still waiting for a reply. Going offline routes them to colleagues (R3.3).
Go offline?</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="155" />
        <source>离线</source>
        <translation>Offline</translation>
    </message>
    <message>
        <location filename="../../console/ui/status_controls.py" line="156" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>SupervisorView</name>
    <message>
        <location filename="../../console/ui/supervisor.py" line="174" />
        <source>导出哪一天（店铺时区）</source>
        <translation>The day to export (the shop's timezone)</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="176" />
        <source>导出报表…</source>
        <translation>Export report…</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="178" />
        <source>每个会话一行、每位客服一行，另附审计日志；XLSX 或 CSV</source>
        <translation>One row per conversation and per agent, with the audit log; XLSX or CSV</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="182" />
        <source>团队接待数据</source>
        <translation>Team figures</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="190" />
        <source>客服</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="192" />
        <source>排队</source>
        <translation>Queues</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="208" />
        <source>现场</source>
        <translation>Now</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="209" />
        <source>今日图表</source>
        <translation>Today in pictures</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="210" />
        <source>班次</source>
        <translation>Shifts</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="211" />
        <source>审计日志</source>
        <translation>Audit log</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="212" />
        <source>策略推演</source>
        <translation>What-if</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="303" />
        <source>排队：%1 · %2 人</source>
        <translation>Queue: %1 · %2 buyers</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="310" />
        <source>客服：%1 · %2 个会话</source>
        <translation>Agent: %1 · %2 conversations</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="326" />
        <source>转接：%1</source>
        <translation>Transfer: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="345" />
        <location filename="../../console/ui/supervisor.py" line="349" />
        <source>结束会话</source>
        <translation>Close session</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="346" />
        <source>结束与 %1 的会话？买家会收到会话结束的通知。</source>
        <translation>End the session with %1? The buyer is told it has ended.</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="350" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="357" />
        <source>导出报表</source>
        <translation>Export report</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="361" />
        <source>Excel 工作簿 (*.xlsx)</source>
        <translation>Excel workbook (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="361" />
        <source>CSV 文件 (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="375" />
        <source>无法写入：%1</source>
        <translation>Cannot write: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="377" />
        <source>已导出：%1</source>
        <translation>Exported: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="399" />
        <source>正在读取 %1 的数据…</source>
        <translation>Reading %1…</translation>
    </message>
</context>
<context>
    <name>TeamTables</name>
    <message>
        <location filename="../../console/ui/team_models.py" line="117" />
        <source>留言池</source>
        <translation>Message pool</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="119" />
        <source>全店排队</source>
        <translation>Shop queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="162" />
        <source>客服</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="163" />
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="165" />
        <source>接待中/上限</source>
        <translation>Load/cap</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="166" />
        <source>饱和度</source>
        <translation>Saturation</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="139" />
        <source>今日接待</source>
        <translation>Received today</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="140" />
        <source>未下单</source>
        <translation>Not ordered</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="141" />
        <source>未付款</source>
        <translation>Not paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="142" />
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="143" />
        <source>询单转化率</source>
        <translation>Inquiry conversion</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="144" />
        <source>昨日满意度</source>
        <translation>Satisfaction (yesterday)</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="145" />
        <source>昨日3分钟响应率</source>
        <translation>3-min response (yesterday)</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="146" />
        <source>昨日平均响应</source>
        <translation>Avg response yesterday</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="164" />
        <source>状态时长</source>
        <translation>In status for</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="192" />
        <source>队列</source>
        <translation>Queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="193" />
        <source>排队人数</source>
        <translation>Waiting</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="168" />
        <location filename="../../console/ui/team_models.py" line="194" />
        <source>最长等待</source>
        <translation>Longest wait</translation>
    </message>
    <message>
        <location filename="../../console/ui/team_models.py" line="195" />
        <source>预估等待</source>
        <translation>Estimated wait</translation>
    </message>
</context>
<context>
    <name>Tiles</name>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="11" />
        <source>今日接待</source>
        <translation>Received today</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="12" />
        <source>未下单</source>
        <translation>Not ordered</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="13" />
        <source>未付款</source>
        <translation>Not paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="14" />
        <source>已付款</source>
        <translation>Paid</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="15" />
        <source>询单转化率</source>
        <translation>Inquiry conversion</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="16" />
        <source>昨日满意度</source>
        <translation>Satisfaction (yesterday)</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="17" />
        <source>昨日3分钟响应率</source>
        <translation>3-min response (yesterday)</translation>
    </message>
    <message>
        <location filename="../../console/ui/filter_bar.py" line="18" />
        <source>昨日平均响应时长</source>
        <translation>Avg response (yesterday)</translation>
    </message>
</context>
<context>
    <name>TransferDialog</name>
    <message>
        <location filename="../../console/ui/supervisor.py" line="109" />
        <source>转接：%1</source>
        <translation>Transfer: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="114" />
        <source>转接</source>
        <translation>Transfer</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="115" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="119" />
        <source>转接给：</source>
        <translation>Transfer to:</translation>
    </message>
</context>
<context>
    <name>TransferTargetModel</name>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="58" />
        <source>按该组的分配方式给组内客服；满员时在该组排队</source>
        <translation>Given to an agent of the group by its own rule; queues in the group when it is full</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="59" />
        <source>按该组的分配方式给组内客服；满员时不能转接</source>
        <translation>Given to an agent of the group by its own rule; refused when the group is full</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="60" />
        <source>离线的同事不能接收转接</source>
        <translation>Offline colleagues cannot take a transfer</translation>
    </message>
    <message>
        <location filename="../../console/ui/transfer_dialog.py" line="74" />
        <source>%1（分组）</source>
        <translation>%1 (group)</translation>
    </message>
</context>
<context>
    <name>WhatIfView</name>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="122" />
        <source>当前策略（TOML）：载入中…</source>
        <translation>The policy in force (TOML): loading…</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="123" />
        <source>载入当前策略</source>
        <translation>Load the policy in force</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="124" />
        <source>打开文件…</source>
        <translation>Open file…</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="125" />
        <source>用今天的流量试运行</source>
        <translation>Try on today's traffic</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="127" />
        <location filename="../../console/ui/whatif_view.py" line="312" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="129" />
        <source>应用此策略…</source>
        <translation>Apply this policy…</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="139" />
        <source>实际</source>
        <translation>Actual</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="139" />
        <source>推演</source>
        <translation>What-if</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="140" />
        <source>客服</source>
        <translation>Agent</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="140" />
        <source>接待</source>
        <translation>Reception</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="141" />
        <source>排队后接入</source>
        <translation>Taken from a queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="141" />
        <location filename="../../console/ui/whatif_view.py" line="142" />
        <source>最长等待</source>
        <translation>Longest wait</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="141" />
        <location filename="../../console/ui/whatif_view.py" line="143" />
        <source>平均等待</source>
        <translation>Average wait</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="142" />
        <source>队列</source>
        <translation>Queue</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="142" />
        <source>峰值</source>
        <translation>Peak</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="142" />
        <source>排队人数</source>
        <translation>Waiting</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="144" />
        <source>分配原因</source>
        <translation>Why?</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="146" />
        <source>策略</source>
        <translation>Policy</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="164" />
        <source>每位客服：实际 → 推演</source>
        <translation>Per agent: actual → what-if</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="165" />
        <source>队列：实际 → 推演</source>
        <translation>Queues: actual → what-if</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="166" />
        <source>分配原因占比</source>
        <translation>Share of routing reasons</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="196" />
        <source>已载入当前策略</source>
        <translation>Loaded the policy in force</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="201" />
        <source>正在用今天的流量试运行…</source>
        <translation>Replaying today's traffic…</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="219" />
        <source>已取消</source>
        <translation>Cancelled</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="219" />
        <source>试运行失败：%1</source>
        <translation>The trial run failed: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="243" />
        <source>%1：重放 %2 条输入</source>
        <translation>%1: %2 inputs replayed</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="245" />
        <source>；注意：按原策略重放与记录不一致（%1）</source>
        <translation>; note: replaying the old policy differs from the record (%1)</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="251" />
        <source>已应用新策略（已记入审计日志）</source>
        <translation>The new policy is applied (recorded in the audit log)</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="264" />
        <source>策略是空的</source>
        <translation>The policy is empty</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="267" />
        <source>策略太长（最多 %1 个字符）</source>
        <translation>The policy is too long (at most %1 characters)</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="272" />
        <source>正在启动试运行…</source>
        <translation>Starting the trial run…</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="284" />
        <source>打开策略文件</source>
        <translation>Open a policy file</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="287" />
        <source>策略文件 (*.toml)</source>
        <translation>Policy files (*.toml)</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="287" />
        <source>所有文件 (*)</source>
        <translation>All files (*)</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="296" />
        <source>文件太大</source>
        <translation>the file is too large</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="299" />
        <source>无法读取 %1：%2</source>
        <translation>Cannot read %1: %2</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="302" />
        <source>已载入 %1</source>
        <translation>Loaded %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="308" />
        <source>应用策略</source>
        <translation>Policy applied</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="309" />
        <source>用这份策略替换当前策略？新进线的买家立即按它分配，此操作会记入审计日志。</source>
        <translation>Replace the policy in force with this one? New buyers are routed by it at once; this is recorded in the audit log.</translation>
    </message>
    <message>
        <location filename="../../console/ui/whatif_view.py" line="311" />
        <source>应用</source>
        <translation>Apply</translation>
    </message>
</context>
<context>
    <name>WhyDialog</name>
    <message>
        <location filename="../../console/ui/supervisor.py" line="73" />
        <source>分配原因：%1</source>
        <translation>Why: %1</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="76" />
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="76" />
        <source>结果</source>
        <translation>Outcome</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="76" />
        <source>去向</source>
        <translation>To</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="76" />
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="76" />
        <source>规则</source>
        <translation>Rule</translation>
    </message>
    <message>
        <location filename="../../console/ui/supervisor.py" line="92" />
        <source>没有这位买家的分配记录</source>
        <translation>No routing decisions for this buyer</translation>
    </message>
</context>
</TS>