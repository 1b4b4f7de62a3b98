"""Console UI responsiveness: 5,000 conversations in the reception list, 200 updates/s (issue 4).

    .venv/bin/python bench/ui.py --json          # the full run: 30 s per configuration
    .venv/bin/python bench/ui.py --quick         # 5 s, readable output, for iterating

The real main window (``MainWindow`` over ``ConsoleState``, as the server adapter feeds it) is
shown on the offscreen platform (``QT_QPA_PLATFORM`` may be set to run it on a real display)
and painted. A driver timer applies live updates at the given rate through ``ConsoleState``, each
one a message plus the conversation update it causes, in the mix of CONSOLE.md §1:

    45%  a buyer writes: replied / bot-replied -> pending (4 in 5), or again while pending
    30%  an agent replies: pending (7 in 10) or bot-replied -> replied
    15%  the bot replies: pending -> bot-replied
     5%  a message in a staff or group chat (re-sorts the row to the top of its section)
     2.5% a new buyer arrives (insert into pending); 2.5% a conversation leaves (remove)

A probe timer ticking every millisecond records the gaps between event-loop turns; a stall is
such a gap (about 1 ms when the loop is free). ``data_calls_per_s`` counts calls to the reception
model's ``data()`` (a counting subclass here, not in the product). ``cold_start_s`` is measured in
a fresh process (``--cold-start-child``): from just before it is started to the end of the first
paint of the list, median of three runs.

Configurations, measured in the same run, one JSON line each:

- ``baseline``: the same window with an empty list and no updates (the event loop's own floor,
  and the cold start of the window alone);
- ``console``: 5,000 conversations and 200 updates/s;
- ``texts`` (issue 13's baseline): the same, with a conversation open in the pane where a buyer's
  text message arrives 5 times a second;
- ``images`` (issue 13): the same, with buyers' photos (1600x1200 JPEGs, each a new image)
  arriving 5 times a second instead: each bubble asks its thumbnail, a stand-in server answers
  2 ms later, and ``Thumbnails`` decodes it in a worker thread;
- ``images_inline`` (with ``--inline``): the same, decoding on the UI thread instead, to show what
  the worker saves.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before PySide6 is imported

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import console.ui.main_window as main_window_module  # noqa: E402
import console.ui.thumbnails as thumbnails_module  # noqa: E402
from console.reception.model import Author, Conversation, Kind, Message, Section  # noqa: E402
from console.ui.app import create_application, install_translator  # noqa: E402
from console.ui.fake_backend import ME  # noqa: E402
from console.ui.main_window import MainWindow  # noqa: E402
from console.ui.reception_model import ReceptionModel  # noqa: E402
from console.ui.state import Connection, ConsoleState  # noqa: E402

ROWS = 5000
RATE = 200.0
PROBE_MS = 1
DRIVER_MS = 5
GOALS = {"p99_stall_ms": 16.0, "max_stall_ms": 50.0, "cold_start_s": 1.5}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹"
HANDLES = ("tb_", "jd_", "小店粉丝", "爱购物的", "吃货", "宝妈", "学生党", "上班族")
BUYER_LINES = (
    "在吗？", "这件有M码吗？身高160体重52kg穿哪个码合适", "今天下单今天能发货吗？急用", "运费险怎么用？",
    "有优惠券吗", "衣服洗了会缩水吗？", "帮我改一下收货地址", "批量拿货100件以上有优惠吗？", "催一下，怎么还没发货",
    "颜色和图片一样吗", "可以开发票吗", "退货地址发我一下", "尺码偏大还是偏小", "赠品还有吗",
)
AGENT_LINES = (
    "您好，有的亲，M码适合您", "今天16点前下单当天发货哦", "已经帮您修改好了，请核对一下新地址", "不客气，有问题随时找我哦",
    "这款是100%棉的，建议冷水手洗", "可以的，下单时备注发票抬头", "已为您催促仓库，今天发出",
)
BOT_LINES = (
    "亲，退货时运费险会自动理赔哦~", "亲，店铺首页可以领取满199减20的优惠券哦", "亲，默认48小时内发货",
    "亲，尺码表在商品详情页第三张图",
)
GROUP_LINES = ("今天下午三点开会，大家准时参加", "群里的宝宝们，今晚8点直播间有秒杀", "收到", "新品已上架")


# -- data --------------------------------------------------------------------------------------------


def _name(rng: random.Random, n: int) -> str:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    if roll < 0.8:
        return f"{rng.choice(HANDLES)}{n}"
    return f"buyer{n:05d}"


def make_conversations(count: int, now: float, seed: int = 4) -> list[Conversation]:
    """A shift's list: most replied, some pending and bot-replied, a few staff and group chats."""
    rng = random.Random(seed)
    conversations = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.08:
            section, kind = Section.PENDING, Kind.MERCHANT if rng.random() < 0.05 else Kind.CONSUMER
        elif roll < 0.20:
            section, kind = Section.BOT_REPLIED, Kind.CONSUMER
        elif roll < 0.90:
            section, kind = Section.REPLIED, Kind.MERCHANT if rng.random() < 0.05 else Kind.CONSUMER
        elif roll < 0.92:
            section, kind = Section.STAFF, Kind.STAFF
        else:
            section, kind = Section.GROUP, Kind.GROUP
        ago = rng.uniform(5, 600) if section == Section.PENDING else rng.uniform(60, 36 * 3600)  # and yesterday
        at = now - ago
        text = rng.choice({Section.PENDING: BUYER_LINES, Section.BOT_REPLIED: BOT_LINES,
                           Section.REPLIED: AGENT_LINES}.get(section, GROUP_LINES))
        conversations.append(Conversation(
            id=f"c{n:05d}", name=_name(rng, n), kind=kind, section=section, holder=f"agent:{ME}",
            last_text=text, last_at=at, unread=rng.randint(1, 3) if section == Section.PENDING else 0,
            waiting_since=at if section == Section.PENDING else None,
        ))
    return conversations


class Traffic:
    """Live updates in the CONSOLE.md §1 mix, applied through ``ConsoleState`` like the server's."""

    def __init__(self, state: ConsoleState, seed: int = 7) -> None:
        self.state = state
        self.rng = random.Random(seed)
        self.ids = itertools.count(1)
        self.fresh = itertools.count(1)
        self.by_section: dict[Section, list[str]] = {s: [] for s in Section}
        self.slot: dict[str, int] = {}
        for conversation in state.conversations.values():
            self._add(conversation.id, conversation.section)
        self.applied = 0

    # O(1) random picks per section: a list per section and each id's slot in it
    def _add(self, conversation: str, section: Section) -> None:
        bucket = self.by_section[section]
        self.slot[conversation] = len(bucket)
        bucket.append(conversation)

    def _drop(self, conversation: str, section: Section) -> None:
        bucket = self.by_section[section]
        slot = self.slot.pop(conversation)
        last = bucket.pop()
        if last != conversation:
            bucket[slot] = last
            self.slot[last] = slot

    def _pick(self, *sections: Section) -> Conversation | None:
        candidates = [s for s in sections if self.by_section[s]]
        if not candidates:
            return None
        weights = [len(self.by_section[s]) for s in candidates]
        section = self.rng.choices(candidates, weights)[0]
        return self.state.conversations[self.rng.choice(self.by_section[section])]

    def _write(self, current: Conversation, author: Author, text: str, now: float, **changes: Any) -> None:
        self.state.add_message(Message(id=next(self.ids), conversation=current.id, author=author, text=text, at=now,
                                       agent=ME if author == Author.AGENT else None))
        updated = msgspec.structs.replace(current, last_text=text, last_at=now, **changes)
        if updated.section != current.section:
            self._drop(current.id, current.section)
            self._add(current.id, updated.section)
        self.state.update_conversation(updated)

    def step(self, now: float) -> None:
        self.applied += 1
        roll = self.rng.random()
        rng = self.rng
        if roll < 0.30:  # an agent replies
            current = self._pick(Section.PENDING) if rng.random() < 0.7 else self._pick(Section.BOT_REPLIED)
            if current is not None:
                self._write(current, Author.AGENT, rng.choice(AGENT_LINES), now, section=Section.REPLIED, unread=0,
                            waiting_since=None)
                return
        elif roll < 0.45:  # the bot replies
            current = self._pick(Section.PENDING)
            if current is not None:
                self._write(current, Author.BOT, rng.choice(BOT_LINES), now, section=Section.BOT_REPLIED,
                            waiting_since=None)
                return
        elif roll < 0.50:  # staff or group chat
            current = self._pick(Section.STAFF, Section.GROUP)
            if current is not None:
                self._write(current, Author.BUYER, rng.choice(GROUP_LINES), now)
                return
        elif roll < 0.525:  # a new buyer
            n = next(self.fresh)
            conversation = Conversation(id=f"n{n:05d}", name=_name(rng, 90000 + n), kind=Kind.CONSUMER,
                                        section=Section.PENDING, holder=f"agent:{ME}")
            self._add(conversation.id, Section.PENDING)  # listed by the update _write makes
            self._write(conversation, Author.BUYER, rng.choice(BUYER_LINES), now, unread=1, waiting_since=now)
            return
        elif roll < 0.55:  # a conversation leaves (transferred, or closed and gone)
            current = self._pick(Section.REPLIED, Section.BOT_REPLIED)
            if current is not None:
                self._drop(current.id, current.section)
                self.state.remove_conversation(current.id)
                return
        # a buyer writes (also the fallback when the picked section was empty)
        if rng.random() < 0.8:
            current = self._pick(Section.REPLIED, Section.BOT_REPLIED) or self._pick(Section.PENDING)
        else:
            current = self._pick(Section.PENDING) or self._pick(Section.REPLIED, Section.BOT_REPLIED)
        if current is None:
            return
        waiting = current.waiting_since if current.section == Section.PENDING and current.waiting_since else now
        self._write(current, Author.BUYER, rng.choice(BUYER_LINES), now, section=Section.PENDING,
                    unread=current.unread + 1, waiting_since=waiting, cleared=False)


# -- the window ----------------------------------------------------------------------------------------


class CountingModel(ReceptionModel):
    """The reception model, counting ``data()`` calls (the bench's instrument, not the product's)."""

    data_calls = 0

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        CountingModel.data_calls += 1
        return super().data(index, role)


class PaintWatch(QObject):
    """Counts paint events of the list's viewport; ``on_first`` runs once the first one is done."""

    def __init__(self, on_first: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.paints = 0
        self._on_first = on_first

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
            if self.paints == 1 and self._on_first is not None:
                QTimer.singleShot(0, self._on_first)  # after this paint event has been handled
        return False


def build_window(rows: int, settings_dir: str, now: float, backend: Any = None) -> tuple[MainWindow, ConsoleState]:
    main_window_module.ReceptionModel = CountingModel  # type: ignore[misc]
    state = ConsoleState(ME, "阿美")
    settings = QSettings(str(Path(settings_dir) / f"fenliu-{rows}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(state, backend if backend is not None else _NoBackend(), settings, time.time)  # type: ignore[arg-type]
    if isinstance(backend, _ImageServer):
        backend.state = state
    state.set_connection(Connection.ONLINE)
    state.load_snapshot(make_conversations(rows, now), state.kpis, "online", 0, 8)
    return window, state


class _NoBackend:
    """The window's requests go nowhere: the traffic comes from ``Traffic``."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args: None


PHOTOS = 4
IMAGES_PER_S = 5.0
OPEN = "c00000"  # the conversation open in the pane, where the photos arrive


def photos(count: int = PHOTOS) -> list[bytes]:
    """Phone-like photos: 1600x1200 JPEGs with texture (a few hundred kilobytes each)."""
    import io

    from PIL import Image, ImageFilter

    made = []
    for n in range(count):
        rng = random.Random(n)
        noise = Image.frombytes("RGB", (400, 300), bytes(rng.randrange(256) for _ in range(400 * 300 * 3)))
        photo = noise.filter(ImageFilter.GaussianBlur(2)).resize((1600, 1200))
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=88)
        made.append(out.getvalue())
    return made


class _ImageServer(_NoBackend):
    """Answers ``fetch_image`` 2 ms later with one of the photos, as a server on the LAN would."""

    def __init__(self, pictures: list[bytes]) -> None:
        self.pictures = pictures
        self.state: ConsoleState | None = None
        self.fetched = 0

    def fetch_image(self, conversation: str, sha256: str, thumb: bool) -> None:
        self.fetched += 1
        data = self.pictures[int(sha256[:8], 16) % len(self.pictures)]
        QTimer.singleShot(2, lambda: self.state.set_image(sha256, thumb, data))  # type: ignore[union-attr]


def photo_message(n: int, now: float) -> Message:
    from console.reception.model import IMAGE_TEXT, ImageRef, MessageKind

    sha = f"{n:08x}" + "0" * 56
    return Message(id=10_000_000 + n, conversation=OPEN, author=Author.BUYER, text=IMAGE_TEXT, at=now,
                   kind=MessageKind.IMAGE, image=ImageRef(sha256=sha, mime="image/jpeg", width=1600, height=1200,
                                                          size=300_000))


# -- measuring -----------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(app: QApplication, rows: int, rate: float, seconds: float, settings_dir: str,
            images: str = "") -> dict[str, Any]:
    server = _ImageServer(photos()) if images in ("worker", "inline") else None
    window, state = build_window(rows, settings_dir, time.time(), server)
    if images == "inline":  # the comparison: decode on the UI thread
        thumbnails = window.thumbnails
        thumbnails._start = lambda sha, thumb, data: thumbnails._signals.done.emit(  # type: ignore[method-assign]
            thumbnails_module.Decoded(sha, thumb, thumbnails_module.decode(data, thumbnails_module.THUMB_SIDE), "ui"))
    if images:
        window.resize(1280, 800)
        window.reception.select_conversation(OPEN)
        window._on_reception_conversation_opened(OPEN)
        state.load_history(OPEN, [])
    watch = PaintWatch()
    window.reception.viewport().installEventFilter(watch)
    window.show()
    settle = QElapsedTimer()
    settle.start()
    while settle.elapsed() < 1000:  # first layout and paint, fonts, pixmap caches
        app.processEvents()
    traffic = Traffic(state)
    gaps: list[float] = []
    clock = QElapsedTimer()
    last = [0]

    def on_probe() -> None:
        t = clock.nsecsElapsed()
        gaps.append((t - last[0]) / 1e6)
        last[0] = t

    sent = itertools.count()
    shown = [0]

    def on_drive() -> None:
        due = int(clock.nsecsElapsed() / 1e9 * rate)
        now = time.time()
        while traffic.applied < due:
            traffic.step(now)
        if images:
            while shown[0] < int(clock.nsecsElapsed() / 1e9 * IMAGES_PER_S):
                shown[0] += 1
                n = next(sent)
                state.add_message(photo_message(n, now) if server is not None else Message(
                    id=10_000_000 + n, conversation=OPEN, author=Author.BUYER, text=BUYER_LINES[n % len(BUYER_LINES)],
                    at=now))

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(on_probe)
    driver = QTimer()
    driver.setTimerType(Qt.TimerType.PreciseTimer)
    driver.setInterval(DRIVER_MS)
    driver.timeout.connect(on_drive)
    stop = QTimer()
    stop.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire 5% early
    stop.setSingleShot(True)
    stop.timeout.connect(app.quit)

    CountingModel.data_calls = 0
    paints_before = watch.paints
    clock.start()
    probe.start()
    if rate:
        driver.start()
    stop.start(int(seconds * 1000))
    app.exec()
    elapsed = clock.nsecsElapsed() / 1e9
    probe.stop()
    driver.stop()
    data_calls = CountingModel.data_calls
    paints = watch.paints - paints_before
    rows_now = len(window.model.visible_ids())
    window.close()
    window.deleteLater()
    app.processEvents()
    gaps = gaps[1:]  # the first gap runs from clock.start() to the first tick
    return {
        "rows": rows,
        "updates_per_s": round(traffic.applied / elapsed, 1),
        "p50_stall_ms": round(_percentile(gaps, 0.50), 2),
        "p99_stall_ms": round(_percentile(gaps, 0.99), 2),
        "max_stall_ms": round(max(gaps), 2),
        "stalls_over_16ms_per_s": round(sum(1 for g in gaps if g > 16.0) / elapsed, 2),
        "data_calls_per_s": round(data_calls / elapsed),
        "paints_per_s": round(paints / elapsed, 1),
        "loop_turns_per_s": round(len(gaps) / elapsed),
        "rows_at_end": rows_now,
        "seconds": round(elapsed, 1),
        **({"messages_shown": shown[0]} if images else {}),
        **({"thumbnails_fetched": server.fetched} if server is not None else {}),
    }


def cold_start(rows: int, runs: int) -> tuple[float, list[float]]:
    """Seconds from starting a fresh process to the end of the list's first paint."""
    times = []
    for _ in range(runs):
        started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the child
        out = subprocess.run([sys.executable, __file__, "--cold-start-child", "--rows", str(rows)],
                             capture_output=True, text=True, check=True, env=os.environ.copy()).stdout
        painted = float(out.strip().splitlines()[-1])
        times.append(round(painted - started, 3))
    return statistics.median(times), times


def cold_start_child(rows: int) -> None:
    app = create_application([])
    install_translator(app, "zh_CN")
    with tempfile.TemporaryDirectory() as tmp:
        window, _ = build_window(rows, tmp, time.time())

        def done() -> None:
            painted = time.monotonic()
            assert len(window.model.visible_ids()) == rows
            print(painted, flush=True)
            app.quit()

        watch = PaintWatch(done)
        window.reception.viewport().installEventFilter(watch)
        window.show()
        app.exec()


# -- the command -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON line per configuration")
    parser.add_argument("--quick", action="store_true", help="5 s per configuration, one cold start")
    parser.add_argument("--seconds", type=float, help="seconds per configuration (default 30, 5 with --quick)")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rate", type=float, default=RATE, help="updates per second")
    parser.add_argument("--inline", action="store_true", help="also measure thumbnails decoded on the UI thread")
    parser.add_argument("--cold-start-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_start_child:
        cold_start_child(args.rows)
        return
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    runs = 1 if args.quick else 3

    configurations = [("baseline", 0, 0.0), ("console", args.rows, args.rate), ("texts", args.rows, args.rate),
                      ("images", args.rows, args.rate)]
    if args.inline:
        configurations.append(("images_inline", args.rows, args.rate))
    colds = {name: cold_start(rows, runs) for name, rows, _ in configurations[:2]}
    colds["texts"] = colds["images"] = colds["images_inline"] = colds["console"]  # the same window at start
    app = create_application([])
    install_translator(app, "zh_CN")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows, rate in configurations:
            figures = measure(app, rows, rate, seconds, tmp, {"texts": "texts", "images": "worker", "images_inline": "inline"}.get(name, ""))
            median, times = colds[name]
            results.append({"config": name, **figures, "cold_start_s": median, "cold_start_runs": times,
                            "platform": QApplication.platformName()})
    for result in results:
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"{result['config']}: {result['rows']} rows, {result['updates_per_s']} updates/s for "
                  f"{result['seconds']} s on {result['platform']}")
            print(f"  stalls: p50 {result['p50_stall_ms']} ms, p99 {result['p99_stall_ms']} ms, "
                  f"max {result['max_stall_ms']} ms, {result['stalls_over_16ms_per_s']}/s over 16 ms "
                  f"({result['loop_turns_per_s']} probe ticks/s)")
            print(f"  data() calls/s {result['data_calls_per_s']}, list paints/s {result['paints_per_s']}, "
                  f"cold start {result['cold_start_s']} s (runs {result['cold_start_runs']})")
    if not args.json:
        real = results[1]
        verdict = ", ".join(f"{k} {real[k]} <= {v}: {'yes' if real[k] <= v else 'NO'}" for k, v in GOALS.items())
        print(f"goals: {verdict}")


if __name__ == "__main__":
    main()
