"""Save docs/screenshots/transfer.png: the agent's 转接… dialog over the demo with live traffic.

    xvfb-run -a -s "-screen 0 1600x1000x24" sh -c 'openbox & .venv/bin/python scripts/shot_transfer.py OUT.png 40'

Runs the demo's server and simulator (``DemoStack``), the console as xiaomei; after SECONDS a
simulated colleague's account (ajie) transfers one of its buyers to xiaomei with a note (the
row and the conversation show it: OUT-note.png), then the 转接… dialog is opened on another buyer,
a note typed, and the screen saved (cropped to the window).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication

from console.client import AgentClient
from console.commands.demo import DEMO_PASSWORD
from console.paths import resources_dir
from console.reception.model import Author, Section
from console.sim.demo_stack import DemoStack
from console.ui.login import Credentials
from console.ui.run import Session, run_console

COLLEAGUE = "ajie"


def main(out: str, seconds: float) -> int:
    with tempfile.TemporaryDirectory(prefix="fenliu-shot-") as scratch:
        stack = DemoStack(Path(scratch) / "data", resources_dir() / "policy.example.toml", rate=40.0,
                          console_user="xiaomei", password=DEMO_PASSWORD, log_dir=Path(scratch))
        try:
            url = stack.start()

            async def until(session: Session) -> int:
                state, window = session.state, session.window
                window.move(0, 0)
                await asyncio.sleep(seconds)
                helper = AgentClient(url, COLLEAGUE, DEMO_PASSWORD, state_dir=Path(scratch) / "helper")
                await helper.start()
                for _ in range(100):
                    if helper.view.seq is not None and helper.view.conversations:
                        break
                    await asyncio.sleep(0.1)
                theirs = [c for c in helper.view.conversations.values()
                          if c.holder == f"agent:{COLLEAGUE}" and c.open and c.kind.value == "consumer"]
                if theirs:
                    await helper.transfer(theirs[0].id, state.agent, note="老客户，想要顺丰发货、开发票，抬头在聊天里，麻烦跟进")
                await asyncio.sleep(2.0)
                await helper.close()
                window.model.flush()
                mine = f"agent:{state.agent}"
                noted = [b for b, messages in state.messages.items()
                         if b in state.conversations and state.conversations[b].holder == mine
                         and any(m.author is Author.SYSTEM for m in messages)]
                if noted:
                    window.reception.select_conversation(noted[0])
                    window._on_reception_conversation_opened(noted[0])
                    await asyncio.sleep(2.0)
                    window.grab().save(out.replace(".png", "-note.png"))
                pending = [c.id for c in state.conversations.values() if c.holder == mine and c.section is Section.PENDING]
                if not pending:
                    return 1
                window.reception.select_conversation(pending[0])
                window._on_reception_conversation_opened(pending[0])
                await asyncio.sleep(1.0)
                window.ask_transfer(pending[0])
                dialog = window.transfer_dialog
                assert dialog is not None
                for _ in range(100):
                    if dialog.chosen() is not None:
                        break
                    await asyncio.sleep(0.1)
                dialog.note.setText("买家要开发票，抬头已发在聊天里，麻烦跟进")
                dialog.move(window.x() + 420, window.y() + 160)
                await asyncio.sleep(1.0)
                frame = window.frameGeometry()
                QGuiApplication.primaryScreen().grabWindow(0).copy(frame).save(out)
                print(f"screenshot: {out}")
                return 0

            settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
            return run_console(None, Path(scratch) / "console", credentials=Credentials(url, "xiaomei", DEMO_PASSWORD),
                               go_online=True, until=until, settings=settings)
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 40.0))
