"""Push: mail read the moment it arrives, where the server can tell.

`run` starts a watcher thread per mailbox whose kind can wait for new mail
(`wait_for_new`: IMAP IDLE; Graph asks its delta link every 30 seconds). A watcher holds its
own connection and only wakes the normal incremental read of its mailbox, so the cursor
logic stays the one that is tested; the scheduled poll goes on beside it as the fallback and
is never skipped. A watcher whose connection fails says so once per change of state and
tries again after a back-off (doubling from 5 seconds up to 5 minutes); a server without
IDLE is left to the scheduled poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.ingest.mailboxes import MailboxError, open_mailbox
from bot.ingest.mailboxes.base import PushUnavailable
from bot.settings import ConfigError

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds before a watcher tries again after a failure
MAX_RETRY = 300.0


class Watcher(threading.Thread):
    """Waits for new mail in one mailbox and calls `on_new(name)` each time it arrives."""

    def __init__(self, config, *, on_new: Callable[[str], None], stopping: threading.Event) -> None:
        super().__init__(name=f"push-{config.name}", daemon=True)
        self.config, self.on_new, self.stopping = config, on_new, stopping
        self.state = "starting"  # starting | waiting | retrying: <reason> | unavailable: <reason> | stopped

    def run(self) -> None:
        delay, problem = FIRST_RETRY, ""
        while not self.stopping.is_set():
            mailbox = None
            try:
                mailbox = open_mailbox(self.config)
                wait = getattr(mailbox, "wait_for_new", None)
                if wait is None:
                    self.state = "unavailable: deze soort mailbox kan niet melden"
                    return
                while not self.stopping.is_set():
                    self.state = "waiting"
                    arrived = wait(self.stopping)
                    if problem:  # the server answered: whatever was wrong is mended
                        log.info("mailbox %s: push works again", self.config.name)
                        problem, delay = "", FIRST_RETRY
                    if arrived and not self.stopping.is_set():
                        self.on_new(self.config.name)
            except PushUnavailable as exc:
                log.info("mailbox %s: no push (%s); polled on schedule", self.config.name, exc)
                self.state = f"unavailable: {exc}"
                return
            except (MailboxError, ConfigError) as exc:  # a refused login, an unset secret, no server
                if str(exc) != problem:  # the scheduled poll reports the mailbox's trouble itself
                    log.info("mailbox %s: push paused (%s); polled on schedule, retrying",
                             self.config.name, exc)
                    problem = str(exc)
                self.state = f"retrying: {exc}"
                self.stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY)
            except Exception as exc:  # a client library's own error must not end push for good
                log.warning("mailbox %s: push failed (%s); retrying", self.config.name, type(exc).__name__)
                self.state = f"retrying: {type(exc).__name__}"
                self.stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY)
            finally:
                if mailbox is not None:
                    mailbox.close()
        self.state = "stopped"


def start_watchers(mailboxes, *, on_new: Callable[[str], None], stopping: threading.Event) -> list[Watcher]:
    """A started watcher for every mailbox that is not a local folder."""
    watchers = [Watcher(config, on_new=on_new, stopping=stopping) for config in mailboxes if config.kind != "maildir"]
    for watcher in watchers:
        watcher.start()
    return watchers
