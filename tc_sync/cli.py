"""The `tc-sync` command line: demo, sync, check, doctor, status, run, items, queues, report,
digest, push, outbox and verify. Configuration problems exit 2 without a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tc_sync import __version__
from tc_sync.config import ConfigError, Settings, config_path, load_settings
from tc_sync.config.mappings import MappingsError
from tc_sync.ledger.db import LedgerError
from tc_sync.observability import logs

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tc-sync", description="Keeps a treatment coordinator's follow-ups in step with "
        "the practice-management system.")
    parser.add_argument("--version", action="version", version=f"tc-sync {__version__}")
    parser.add_argument("--config", type=Path, help="configuration file (or $TC_SYNC_CONFIG)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v) or everything (-vv) to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    demo = commands.add_parser("demo", help="build a synthetic practice and sync it")
    demo.add_argument("--dir", type=Path, default=Path("tc-sync-demo"),
                      help="where the demo practice and its ledger live (default ./tc-sync-demo)")
    demo.add_argument("--fresh", action="store_true", help="rebuild the demo from scratch")
    demo.add_argument("--advance", type=int, nargs="?", const=1, default=None, metavar="DAYS",
                      help="let the front desk work DAYS days (default 1) in the demo practice "
                           "(book, see, break, send and get paid), move the demo's today on, "
                           "sync, and say what changed")

    sync = commands.add_parser("sync", help="pull the configured sources into the ledger")
    sync.add_argument("--once", action="store_true",
                      help="run one sync and exit (the default for this command)")
    sync.add_argument("--source", help="only this source id")
    sync.add_argument("--full", action="store_true",
                      help="read every row (also finds rows deleted in the PMS)")

    commands.add_parser("check", help="validate configuration and test each source")
    run = commands.add_parser("run", help="the daemon: sync on schedule until stopped")
    run.add_argument("--source", action="append", dest="sources", metavar="ID",
                     help="run only this source (repeatable): one daemon per practice of a "
                     "group's configuration; its log file, queue and report folders and status "
                     "port are derived from the source id unless set (docs/INSTALL.md)")
    commands.add_parser("doctor", help="check the installation and say how to fix what is wrong")

    items = commands.add_parser("items", help="the coordination items")
    item_commands = items.add_subparsers(dest="items_command", required=True, metavar="action")
    listing = item_commands.add_parser("list", help="open items, highest priority first")
    listing.add_argument("--queue")
    listing.add_argument("--kind")
    listing.add_argument("--source")
    listing.add_argument("--resolved", action="store_true", help="resolved items instead")
    listing.add_argument("--format", choices=["table", "json", "csv"], default="table",
                         help="table (default), or JSON / CSV for scripts (docs/QUEUES.md)")
    showing = item_commands.add_parser("show", help="one item and its whole history")
    showing.add_argument("key", help="the item's key, e.g. unscheduled_treatment:main:42")
    snoozing = item_commands.add_parser("snooze", help="put an item's follow-up off")
    snoozing.add_argument("key")
    snoozing.add_argument("--until", required=True, type=date.fromisoformat,
                          help="YYYY-MM-DD")
    assigning = item_commands.add_parser("assign", help="give an item to someone")
    assigning.add_argument("key")
    assigning.add_argument("owner")
    status = commands.add_parser("status", help="last sync of each source, rows and problems")
    status.add_argument("--group", action="store_true",
                        help="every practice of the configuration from the shared ledger: "
                        "colour and why, agent, work queues")
    _queues_parser(commands)
    commands.add_parser("push", help="deliver due tasks and alerts now, then exit")
    box = commands.add_parser("outbox", help="tasks and alerts owed to Open Dental, email, chat")
    box_commands = box.add_subparsers(dest="outbox_command", required=True, metavar="action")
    box_list = box_commands.add_parser("list", help="the newest actions and their state")
    box_list.add_argument("--status", choices=["pending", "in_flight", "retry", "sent", "dead",
                                               "cancelled"])
    box_list.add_argument("--target")
    box_list.add_argument("--limit", type=int, default=50)
    box_commands.add_parser("dead", help="actions that failed for good (dead letters)")
    box_retry = box_commands.add_parser("retry", help="try dead letters again")
    box_retry.add_argument("action_ids", nargs="*", type=int,
                           help="which (default: every dead letter)")
    _report_parsers(commands)
    _verify_parser(commands)
    return parser


def _queues_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`queues build [--folder] [--group]`."""
    queues = commands.add_parser("queues", help="coordinators' work queues (xlsx, csv, html)")
    queue_commands = queues.add_subparsers(dest="queues_command", required=True,
                                           metavar="action")
    building = queue_commands.add_parser("build", help="write them now from the open items")
    building.add_argument("--folder", type=Path, help="write here instead of queues.folder")
    building.add_argument("--group", action="store_true",
                          help="every practice of the configuration together, with a Practice "
                          "column and per-practice totals (in queues.folder/All-practices)")


def _verify_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser("verify", help="compare the queues with Open Dental's own "
                                 "reports, run on the PMS (read-only)")
    verify.add_argument("--source", help="only this source id")
    verify.add_argument("--no-sync", action="store_true",
                        help="compare with the ledger as it is (default: one sync first)")
    verify.add_argument("--format", choices=["text", "json"], default="text")


def _report_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`report weekly|monthly` and `digest`."""
    report = commands.add_parser("report", help="weekly or monthly report (HTML with charts, "
                                 "Excel)")
    report.add_argument("kind", choices=["weekly", "monthly"])
    report.add_argument("--period", help="a week by any day in it (YYYY-MM-DD) or a month "
                        "(YYYY-MM); default: the last complete one")
    report.add_argument("--folder", type=Path, help="write here instead of reports.folder")
    report.add_argument("--group", action="store_true",
                        help="each practice's report and every practice side by side with the "
                        "group's total (in reports.folder/All-practices)")
    digest = commands.add_parser("digest", help="the daily digest: print it, or send it now")
    digest_mode = digest.add_mutually_exclusive_group()
    digest_mode.add_argument("--print", action="store_true", dest="print_only",
                             help="show what would be sent (the default)")
    digest_mode.add_argument("--send", action="store_true", help="send it by email now")


def _settings(path: Path | None) -> Settings:
    resolved = config_path(path)
    if resolved is None:
        raise ConfigError([
            "no configuration file: pass --config FILE or set TC_SYNC_CONFIG "
            "(config/example.yaml is a starting point; `tc-sync demo` needs none)"])
    from tc_sync.adapter.registry import configuration_problems

    return load_settings(resolved, check=configuration_problems)


def _items(arguments: argparse.Namespace, settings: Settings) -> int:
    from tc_sync.commands.items import assign_item, list_items, show_item, snooze_item

    action = arguments.items_command
    if action == "show":
        return show_item(settings, arguments.key)
    if action == "snooze":
        return snooze_item(settings, arguments.key, arguments.until)
    if action == "assign":
        return assign_item(settings, arguments.key, arguments.owner)
    return list_items(settings, queue=arguments.queue, kind=arguments.kind,
                      source=arguments.source, resolved=arguments.resolved,
                      output=arguments.format)


def _outbox(arguments: argparse.Namespace, settings: Settings) -> int:
    from tc_sync.commands.outbox import list_outbox, push_once, retry

    if arguments.command == "push":
        return push_once(settings)
    action = arguments.outbox_command
    if action == "retry":
        return retry(settings, arguments.action_ids or None)
    if action == "dead":
        return list_outbox(settings, status="dead", target=None, limit=1000)
    return list_outbox(settings, status=arguments.status, target=arguments.target,
                       limit=arguments.limit)


def _reports(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.command == "report":
        from tc_sync.commands.report import make_report

        return make_report(settings, arguments.kind, arguments.period, arguments.folder,
                           group=arguments.group)
    from tc_sync.commands.digest import print_digests, send

    return send(settings) if arguments.send else print_digests(settings)


def _with_settings(arguments: argparse.Namespace, settings: Settings) -> int:  # noqa: PLR0911
    command = arguments.command
    if command in ("report", "digest"):
        return _reports(arguments, settings)
    if command == "sync":
        from tc_sync.commands.sync import run_sync

        return run_sync(settings, source=arguments.source, full=arguments.full,
                        verbose=arguments.verbose)
    if command == "check":
        from tc_sync.commands.check import run_check

        return run_check(settings)
    if command == "items":
        return _items(arguments, settings)
    if command == "queues":
        from tc_sync.commands.queues import build, build_group

        if arguments.group:
            return build_group(settings, arguments.folder)
        return build(settings, arguments.folder)
    if command in ("outbox", "push"):
        return _outbox(arguments, settings)
    if command == "verify":
        from tc_sync.commands.verify import run_verify

        return run_verify(settings, source=arguments.source, sync=not arguments.no_sync,
                          output=arguments.format)
    if command == "run":
        from tc_sync.commands.run import run_daemon

        return run_daemon(settings, arguments.sources)
    from tc_sync.commands.status import run_group_status, run_status

    return run_group_status(settings) if arguments.group else run_status(settings)


def _without_settings(arguments: argparse.Namespace) -> int:
    if arguments.command == "doctor":   # reports a broken configuration as a finding
        from tc_sync.commands.doctor import run_doctor

        return run_doctor(config_path(arguments.config))
    from tc_sync.commands.demo import run_demo

    return run_demo(arguments.dir, fresh=arguments.fresh, verbose=arguments.verbose,
                    advance=arguments.advance)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    arguments = _parser().parse_args(argv)
    logs.configure(arguments.verbose)
    try:
        if arguments.command in ("demo", "doctor"):
            return _without_settings(arguments)
        return _with_settings(arguments, _settings(arguments.config))
    except (ConfigError, MappingsError) as error:
        what = "configuration" if isinstance(error, ConfigError) else "mappings"
        print(f"tc-sync: {what} problem:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except LedgerError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
