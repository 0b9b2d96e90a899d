"""The command line of CONTRACT.md. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Each command imports what it uses, inside its function: `--help`, `check` and `match`
# must not pay for SQLAlchemy, Alembic and the pipeline (issue 11).
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from newswatch.config import Config
    from newswatch.match import Matcher, Rejection
    from newswatch.model import Alert, Match, Outlet
    from newswatch.pipeline import Pipeline, RefreshReport
    from newswatch.pipeline.app import App
    from newswatch.sources.opml import OpmlFeed

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: exit 2 with one line."""


class _Version(argparse.Action):
    """argparse's `version` action, reading the version only when asked (it costs start-up)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from newswatch import __version__

        print(f"newswatch {__version__}")
        parser.exit()


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's own, told the width: asking shutil for it imports shutil, bz2 and lzma
    into every command's start-up."""
    return argparse.HelpFormatter(prog, width=_terminal_columns() - 2)


def _terminal_columns() -> int:
    """As shutil.get_terminal_size: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    """With _formatter, and so are its subcommands' parsers (argparse makes them of the
    same class), which each ask for a formatter as arguments are added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newswatch", description="News ingestion and monitoring daemon.")
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    parser.add_argument(
        "--config",
        help="config file (default: $NEWSWATCH_CONFIG, "
        "./config/newswatch.yaml, /etc/newswatch/newswatch.yaml)",
    )
    parser.add_argument("--log-format", choices=["json", "console", "auto"], default="auto")
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the daemon in the foreground")
    ingest = commands.add_parser("ingest", help="one pass over all (or one) sources now")
    ingest.add_argument("--source", help="only the source with this name")
    ingest.add_argument(
        "--parse-workers",
        type=_workers,
        default=0,
        metavar="N",
        help="parse feed bodies on N worker processes (default 0: in this process; "
        "1 or 2 shorten a large first import on an idle machine, at more memory)",
    )
    commands.add_parser("check", help="validate the config and print a summary")
    match = commands.add_parser("match", help="dry run: which watches match this text and why")
    match.add_argument("text", nargs="?", help="the text (or use --file, or standard input)")
    match.add_argument("--file", type=Path, help="a text or seed file")
    match.add_argument("--title", default="", help="the document's title")
    match.add_argument("--source", help="the source name watches with `sources:` see")
    match.add_argument("--json", action="store_true", help="one JSON object per matching watch")
    match.add_argument(
        "--explain",
        action="store_true",
        help="also the candidate mentions a rule refused (case, hyphen, name, ambiguous) and why",
    )
    replay = commands.add_parser("replay", help="run the current watches over stored documents")
    replay.add_argument("--since", required=True, help="date (2024-11-14) or age (7d)")
    replay.add_argument("--dry-run", action="store_true", help="list what would alert")
    replay.add_argument(
        "--explain", action="store_true", help="with --dry-run: the rule and refused mentions"
    )
    purge = commands.add_parser("purge", help="remove documents older than retention.documents")
    purge.add_argument("--dry-run", action="store_true", help="only say what would go")
    alerts = commands.add_parser("alerts", help="stored alerts, newest first")
    alerts.add_argument("--since", help="date (2024-11-14) or age (7d)")
    alerts.add_argument("--limit", type=_count, default=None, metavar="N", help="the N newest")
    alerts.add_argument("--json", action="store_true", help="one JSON object per line")
    outbox = commands.add_parser("outbox", help="delivery state per sink, and dead letters")
    outbox.add_argument("--sink", help="only the sink with this name (see `outbox`)")
    outbox.add_argument("--json", action="store_true", help="one JSON object per sink")
    deliver = commands.add_parser("deliver", help="deliver pending alerts now, backed off or not")
    deliver.add_argument("--sink", help="only the sink with this name (see `outbox`)")
    deliver.add_argument("--dead", action="store_true", help="retry dead-lettered alerts too")
    stories = commands.add_parser(
        "stories", help="stories carried by several outlets, newest first"
    )
    stories.add_argument("--since", default="7d", help="date (2024-11-14) or age (7d, the default)")
    stories.add_argument("--all", action="store_true", help="single-outlet stories too")
    stories.add_argument("--json", action="store_true", help="one JSON object per story")
    nodes = commands.add_parser("nodes", help="nodes sharing the database, leases, heartbeats")
    nodes.add_argument("--json", action="store_true", help="one JSON object per line")
    feeds = commands.add_parser("feeds", help="every feed with its health")
    feeds.add_argument("--json", action="store_true", help="one JSON object per feed")
    opml = commands.add_parser("import-opml", help="the feeds of an OPML file, as YAML")
    opml.add_argument("file", type=Path, help="the OPML file")
    opml.add_argument(
        "--merge",
        type=Path,
        metavar="FEEDS_YAML",
        help="add the feeds to this feeds file (list it under sources.include)",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_commands.add_parser("upgrade", help="apply schema migrations")
    return parser


def entry() -> int:
    """The console script (and `python -m newswatch`): main, with the cyclic garbage
    collector kept off the objects that live as long as the process (issue 11).

    Start-up (SQLAlchemy, urllib3, structlog, the app) makes a heap that stays: the
    collector, on, would scan it over and over while it grows (~110 passes before an
    `ingest` of 304s fetched anything). It is off until the command has started
    (`_started`), then those objects are frozen out of its scans. The interpreter's
    exit also runs full collections over everything still alive (0.15-0.45 s at
    load 12 with the pipeline imported, 0.02 s frozen): what lives at the end is
    frozen too (atexit handlers, flushing and closing still run).
    """
    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()


def _started() -> None:
    """The command's long-lived objects are made: freeze them, collect from now on (when
    entry() switched the collector off; a caller of main() keeps its own settings)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (`argv` None: this process's)."""
    args = build_parser().parse_args(argv)  # --help and --version end here, importing nothing
    if args.command in _THREADED:
        from newswatch.ops.memory import tune_heap

        tune_heap()  # before any thread starts (see its docstring)
    from newswatch.log import configure_logging

    try:
        configure_logging(args.log_format, args.log_level)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    # pydantic would scan every installed package's entry points for plugins (~60 ms
    # of each start-up); the config models use none. Set the variable to opt back in.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if args.command == "import-opml":  # needs no config
        _started()
        try:
            return cmd_import_opml(args)
        except UsageError as exc:
            return _fail(str(exc), EXIT_USAGE)
    from newswatch.config import ConfigError, find_config_path
    from newswatch.store.dbinfo import DatabaseError

    handler = COMMANDS[args.command]
    try:
        path = find_config_path(args.config)
        args.read_at = time.time()  # for the cache of the compiled watch list
        if args.command == "match":  # rules compiled before from the same files: no validation
            from newswatch.config.cache import cached_matcher

            cached = cached_matcher(path)
            if cached is not None:
                _started()
                return print_matches(cached, args)
        if args.command == "ingest":  # and the config's values: no validation either
            from newswatch.config.cache import cached_config

            kept = cached_config(path)
            # validated by a child, which keeps pydantic out of this process; where it is
            # loaded already (the CLI run inside another program), a child saves nothing
            if kept is None and "pydantic" not in sys.modules:
                from newswatch.config.aside import validated_aside

                kept = validated_aside(path, args.read_at, meanwhile=_import_pipeline)
            if kept is not None:
                return run_ingest(*kept, args)
        from newswatch.config import check_config
        from newswatch.config.plugins import stand_in

        stand_in()  # nor import importlib.metadata for the plugins (config/plugins.py)
        config, warnings = check_config(path)
        if args.command == "check":  # other commands log such things in their own format
            for warning in warnings:
                print(warning, file=sys.stderr)
        if args.command != "ingest":  # run_ingest says when, once its app is open
            _started()
        return handler(config, args)
    except ConfigError as exc:  # check_config is imported late: pydantic, the schema, YAML
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"newswatch: {len(exc.problems)} configuration error(s)", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except DatabaseError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_FAILURE)


def _fail(message: str, code: int) -> int:
    print(f"newswatch: {message}", file=sys.stderr)
    return code


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    from newswatch.alerts.preflight import sink_problems
    from newswatch.config import ConfigError
    from newswatch.config.cache import save_matcher
    from newswatch.match.watchlist import compile_config
    from newswatch.store.dbinfo import shown_url

    matcher = compile_config(config)
    problems = sink_problems(config)
    if problems:
        raise ConfigError(problems)
    save_matcher(config, matcher, args.read_at)
    watch = config.watch
    aliases = sum(len(p.aliases) for p in watch.people)
    print(f"config {config.path}: OK")
    print(f"  database  {shown_url(config.database)}")
    print(
        f"  seeds     {len(config.sources.seeds)} folder(s): "
        + ", ".join(str(s.path) for s in config.sources.seeds)
    )
    print(
        f"  feeds     {len(config.sources.feeds)} feed(s), {len(config.sources.opml)} OPML file(s)"
    )
    print(f"  people    {len(watch.people)} ({aliases} aliases)")
    print(f"  topics    {len(watch.topics)}")
    print(f"  alerts    {', '.join(a.type for a in config.alerts) or 'none'}")
    return EXIT_OK


def cmd_ingest(config: Config, args: argparse.Namespace) -> int:
    """`ingest` after a full validation: keep the compiled watch list and the config's
    plain copy for the next run (config/cache.py), and run on that copy as it will."""
    from newswatch.config.cache import save_matcher
    from newswatch.config.plain import plain_config
    from newswatch.match.watchlist import compile_config

    matcher = compile_config(config)
    save_matcher(config, matcher, args.read_at)
    return run_ingest(plain_config(config), matcher, args)


def run_ingest(config: Config, matcher: Matcher, args: argparse.Namespace) -> int:
    seeds = [s for s in config.sources.seeds if args.source in (None, s.source_name)]
    feeds = [f for f in config.sources.feeds if args.source in (None, f.name, f.url)]
    if args.source and not seeds and not feeds:
        names = [s.source_name for s in config.sources.seeds]
        names += [f.name or f.url for f in config.sources.feeds]
        raise UsageError(f"no source named {args.source!r}; sources: {', '.join(names)}")
    with (
        _app(config, matcher, args.parse_workers) as app,
        _node(app, config),
        _stop_on_signals(app.pipeline),
    ):
        _started()
        app.pipeline.wake_delivery = _later  # everything is delivered once, at the end
        reports = [app.pipeline.refresh_seeds(source) for source in seeds]
        if feeds:
            reports += app.pipeline.refresh_feeds(feeds, force=True)
        delivered = _deliver_all(app, None) if _to_deliver(app, reports) else True
        interrupted = app.pipeline.stop_requested.is_set()
    if interrupted:
        return _fail("interrupted; what was not stored is read again next time", EXIT_FAILURE)
    failed = any(r.status == "error" for r in reports) or not delivered
    return EXIT_FAILURE if failed else EXIT_OK


def _to_deliver(app: App, reports: list[RefreshReport]) -> bool:
    """Whether the command has alerts to deliver: it raised some, or some wait from
    before. Neither (a cycle of 304s, as a rule): no sink is leased nor asked, and the
    outbox is not loaded (issue 11)."""
    if any(report.alerts for report in reports):
        return True
    from newswatch.store.deliveries import any_undelivered

    with app.engine.connect() as connection:
        return any_undelivered(connection)


def _later() -> None:
    """New alerts wait in the outbox for the delivery at the end of the command."""


def _deliver_all(app: App, sink: str | None) -> bool:
    """Deliver what is pending, retry times or not; tell what is left. False if anything failed."""
    from newswatch.alerts.sink import is_ready
    from newswatch.pipeline import utc_now
    from newswatch.store import deliveries

    pipeline = app.pipeline
    report = pipeline.deliver(sink, due_only=False)
    now = utc_now()
    with app.engine.connect() as connection:
        keys = [s.key for s in pipeline.sinks if sink in (None, s.key)]
        statuses = deliveries.sink_statuses(connection, keys, now)
        # a digest whose time has not come is not a failure
        waiting = {
            s.key
            for s in pipeline.sinks
            if (first := deliveries.pending_deliveries(connection, s.key, now, 1, due_only=False))
            and not is_ready(s, first[0].created_at or now, now)
        }
    waiting |= report.busy  # another node (a running daemon) is delivering these now
    waiting |= report.held  # at its max_per_hour: a digest carries the rest after the hour
    left = [s for s in statuses if s.sink in keys and s.pending and s.sink not in waiting]
    stopped = pipeline.stop_requested.is_set()
    for status in left:
        why = report.failures.get(status.sink) or ("stopped" if stopped else "refused for now")
        print(
            f"newswatch: {status.pending} alert(s) not delivered to {status.sink}: {why}; "
            "`newswatch outbox` shows them, `newswatch deliver` retries them",
            file=sys.stderr,
        )
    for status in [s for s in statuses if s.sink in report.held and s.pending]:
        print(
            f"newswatch: {status.pending} alert(s) for {status.sink} wait for one digest after "
            "this hour (its max_per_hour was reached)",
            file=sys.stderr,
        )
    for key in sorted(report.busy):
        print(
            f"newswatch: a running node is delivering {key}; it sends the new alerts too",
            file=sys.stderr,
        )
    if report.dead:
        print(
            f"newswatch: {report.dead} alert(s) refused for good (dead-lettered); "
            "`newswatch outbox` lists them, `newswatch deliver --dead` retries them",
            file=sys.stderr,
        )
    return not (left or report.failed)


@contextmanager
def _stop_on_signals(pipeline: Pipeline) -> Iterator[None]:
    """SIGTERM and SIGINT abandon the parses under way, finish the message in flight,
    record it and stop (nothing stored after the signal, nothing sent twice)."""
    import signal  # its enums cost `check` and `match` start-up

    from newswatch.ops.signals import SignalInbox

    def stop_when_signalled(inbox: SignalInbox) -> None:
        # on a thread of its own: a handler may interrupt one holding the parsers' lock,
        # and must take no lock itself (ops/signals.py); a nudge alone means: done
        if inbox.wait(timeout=None):
            pipeline.stop()

    with SignalInbox((signal.SIGTERM, signal.SIGINT)) as inbox:
        watcher = threading.Thread(target=stop_when_signalled, args=(inbox,), name="stop")
        watcher.start()
        try:
            yield
        finally:
            inbox.nudge()
            watcher.join()


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from newswatch.config import find_config_path, load_config
    from newswatch.service import run_service

    return run_service(config, reload=lambda: load_config(find_config_path(args.config)))


def cmd_match(config: Config, args: argparse.Namespace) -> int:
    from newswatch.config.cache import save_matcher
    from newswatch.match.watchlist import compile_config

    matcher = compile_config(config)
    save_matcher(config, matcher, args.read_at)
    return print_matches(matcher, args)


def print_matches(matcher: Matcher, args: argparse.Namespace) -> int:
    """`match`: the watches the text matches, and why."""
    from newswatch.match import explain

    title, body = _match_input(args)
    matches, refused = matcher.examine(title, body, args.source, args.explain)
    for match in matches:
        if args.json:
            record = _match_record(match, title, body)
            if args.explain:
                record |= {"outcome": "matched", "rejected": _refused(refused, match.watch)}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{match.kind} {match.watch!r}: {explain(match)}")
    if not matches and not args.json:
        print("no watch matches")
    if args.explain:
        _print_refused([m.watch for m in matches], refused, args.json)
    return EXIT_OK


def _refused(refused: list[Rejection], watch: str) -> list[dict[str, object]]:
    return [r.record() for r in refused if r.watch == watch]


def _print_refused(matched: list[str], refused: list[Rejection], as_json: bool) -> None:
    """Refused candidates: as lines, or one record per watch that did not match."""
    from newswatch.match import explain_rejection

    if not as_json:
        for rejection in refused:
            print(explain_rejection(rejection))
        return
    kinds = {r.watch: r.kind for r in refused if r.watch not in matched}
    for watch, kind in kinds.items():
        record: dict[str, object] = {"watch": watch, "kind": kind, "matched": [], "rule": ""}
        record["hits"] = []
        record |= {"snippet": "", "outcome": "rejected", "rejected": _refused(refused, watch)}
        print(json.dumps(record, ensure_ascii=False))


def _match_input(args: argparse.Namespace) -> tuple[str, str]:
    from newswatch.normalize import normalize_text
    from newswatch.sources.seeds import SeedFormatError, parse_seed

    if args.file is not None:
        try:
            raw = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.file}: {exc}") from None
        try:
            item = parse_seed(raw, path=str(args.file), source="match", key=str(args.file))
            return normalize_text(args.title or item.title), normalize_text(item.body)
        except SeedFormatError:
            return normalize_text(args.title), normalize_text(raw)
    text = args.text if args.text is not None else sys.stdin.read()
    return normalize_text(args.title), normalize_text(text)


def _match_record(match: Match, title: str, body: str) -> dict[str, object]:
    from newswatch.match import snippet

    first = match.first_hit
    text = title if first is not None and first.field == "title" else body
    return {
        "watch": match.watch,
        "kind": match.kind,
        "matched": match.matched,
        "rule": match.rule,
        "hits": [
            {"field": h.field, "start": h.start, "end": h.end, "text": h.text} for h in match.hits
        ],
        "snippet": snippet(text, first) if first is not None else "",
    }


def cmd_replay(config: Config, args: argparse.Namespace) -> int:
    from newswatch.match.watchlist import compile_config

    since = _since(args.since)
    notes: dict[tuple[int, str], dict[str, object]] = {}
    with _app(config) as app, _node(app, config):
        raised = app.pipeline.replay(since, dry_run=args.dry_run)
        if args.dry_run and args.explain:
            notes = _replay_notes(app, compile_config(config), since, raised)
    if args.dry_run:
        for alert in raised:
            record = {"event": "would_alert", **alert.record()}
            record |= notes.get((alert.document_id, alert.watch), {})
            print(json.dumps(record, ensure_ascii=False))
    print(
        f"{len(raised)} alert(s) {'would be raised' if args.dry_run else 'raised'}", file=sys.stderr
    )
    return EXIT_OK


def cmd_purge(config: Config, args: argparse.Namespace) -> int:
    period = config.retention.documents
    if period is None:
        raise UsageError("set `retention: {documents: 90d}` (any age) in the config to purge")
    with _app(config) as app:
        purged = app.pipeline.purge(period, dry_run=args.dry_run)
    verb = "would be purged" if args.dry_run else "purged"
    days = round(period.total_seconds() / 86400, 2)
    print(
        f"{purged.documents} document(s) stored more than {days:g} days ago {verb} "
        f"({purged.bands} band keys); documents that alerted or start a story are kept"
    )
    return EXIT_OK


def _replay_notes(
    app: App, matcher: Matcher, since: datetime, raised: list[Alert]
) -> dict[tuple[int, str], dict[str, object]]:
    """For each would-be alert: the rule that fired and the candidates a rule refused."""
    from newswatch.store.documents import iter_documents_since

    wanted = {alert.document_id for alert in raised}
    notes: dict[tuple[int, str], dict[str, object]] = {}
    with app.engine.connect() as reader:
        for batch in iter_documents_since(reader, since):
            for doc in batch:
                if doc.id not in wanted:
                    continue
                matches, refused = matcher.examine(
                    doc.title, doc.body, doc.source, explain=True, salience=app.pipeline.salience
                )
                for match in matches:
                    notes[(doc.id, match.watch)] = {
                        "rule": match.rule,
                        "rejected": _refused(refused, match.watch),
                    }
    return notes


def cmd_alerts(config: Config, args: argparse.Namespace) -> int:
    from newswatch.model import iso_utc
    from newswatch.store import alerts as alert_store
    from newswatch.store import deliveries

    since = _since(args.since) if args.since else None
    with _database(config) as engine, engine.connect() as connection:
        stored = alert_store.list_alerts(connection, since, args.limit)
        states = deliveries.delivery_states(connection, [a.id for a in stored if a.id])
    for alert in stored:
        sent = states.get(alert.id or 0, [])
        if args.json:
            record = {**alert.record(), "created_at": iso_utc(alert.created_at)}
            record["deliveries"] = [state.record() for state in sent]
            print(json.dumps(record, ensure_ascii=False))
        else:
            when = iso_utc(alert.created_at)
            also = (
                f"  (+{len(alert.story.others)} outlets)"
                if alert.story and alert.story.others
                else ""
            )
            print(f"{when}  {alert.kind:<6}  {alert.watch}  —  {alert.title}  <{alert.url}>{also}")
            for state in sent:
                print(f"    {state.line()}")
    return EXIT_OK


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    from newswatch.model import iso_utc
    from newswatch.store import stories as story_store

    since = _since(args.since)
    with _database(config) as engine, engine.connect() as connection:
        listed = story_store.recent_stories(connection, since, shared_only=not args.all)
    for story in listed:
        outlets = [o.record() for o in story.outlets]
        if args.json:
            record = {"story": story.id, "latest": iso_utc(story.latest), "outlets": outlets}
            print(json.dumps(record, ensure_ascii=False))
            continue
        title = story.outlets[0].title if story.outlets else ""
        print(f"{iso_utc(story.latest)}  story {story.id}  {len(outlets)} outlet(s)  —  {title}")
        for outlet in story.outlets:
            print(_outlet_line(outlet, title))
    if not listed and not args.json:
        print(f"no {'' if args.all else 'shared '}stories since {iso_utc(since)}")
    return EXIT_OK


def _outlet_line(outlet: Outlet, headline: str) -> str:
    """One outlet of a listed story: its own headline when it differs from the story's
    (outlets re-headline), its link when it has one."""
    line = f"    {outlet.source}"
    if outlet.title and outlet.title != headline:
        line += f"  —  {outlet.title}"
    return line + (f"  <{outlet.url}>" if outlet.url else "")


def cmd_outbox(config: Config, args: argparse.Namespace) -> int:
    from newswatch.alerts.outbox import held_until
    from newswatch.alerts.status import dead_letter
    from newswatch.model import iso_utc
    from newswatch.pipeline import utc_now
    from newswatch.sinks import build_sinks
    from newswatch.store import deliveries

    sinks = build_sinks(config)
    keys = [sink.key for sink in sinks]
    with _database(config) as engine, engine.connect() as connection:
        statuses = deliveries.sink_statuses(connection, keys, utc_now())
        dead = deliveries.dead_letters(connection, args.sink)
        held = {s.key: held_until(connection, s, utc_now()) for s in sinks}
    shown = [s for s in statuses if args.sink in (None, s.sink)]
    if args.sink is not None and not shown:
        raise UsageError(f"no sink named {args.sink!r}; sinks: {', '.join(keys) or 'none'}")
    now = utc_now()
    for status in shown:
        letters = [dead_letter(alert, why) for alert, sink, why in dead if sink == status.sink]
        until = held.get(status.sink) if status.pending else None
        if args.json:
            record = {**status.record(now), "held_until": iso_utc(until), "dead_letters": letters}
            print(json.dumps(record, ensure_ascii=False))
            continue
        print(
            status.line()
            + (f"; max_per_hour reached: one digest after {iso_utc(until)}" if until else "")
        )
        for letter in letters:
            print(f"    dead #{letter['alert_id']} {letter['watch']} — {letter['title']}: ", end="")
            print(letter["error"])
    if not shown and not args.json:
        print("no sinks configured and nothing in the outbox")
    return EXIT_OK


def cmd_deliver(config: Config, args: argparse.Namespace) -> int:
    from newswatch.pipeline import utc_now
    from newswatch.store import deliveries

    with _app(config) as app, _node(app, config), _stop_on_signals(app.pipeline):
        keys = [sink.key for sink in app.pipeline.sinks if args.sink in (None, sink.key)]
        if not keys:
            known = ", ".join(sink.key for sink in app.pipeline.sinks) or "none"
            raise UsageError(f"no sink named {args.sink!r}; sinks: {known}")
        with app.engine.begin() as connection:
            deliveries.retry_now(connection, keys, dead_too=args.dead)
        delivered = _deliver_all(app, args.sink)
        with app.engine.connect() as connection:
            for status in deliveries.sink_statuses(connection, keys, utc_now()):
                print(status.line())
    return EXIT_OK if delivered else EXIT_FAILURE


def cmd_feeds(config: Config, args: argparse.Namespace) -> int:
    from newswatch.feedreport import feed_rows, render_table
    from newswatch.store import feeds as feed_store

    with _database(config) as engine, engine.connect() as connection:
        records = feed_store.load_records(connection, [f.url for f in config.sources.feeds])
    rows = feed_rows(config.sources.feeds, records)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif rows:
        print(render_table(rows))
    else:
        print("no feeds configured (add them under sources.feeds or sources.opml)")
    return EXIT_OK


def cmd_nodes(config: Config, args: argparse.Namespace) -> int:
    from newswatch.pipeline import utc_now
    from newswatch.store import leases

    now = utc_now()
    with _database(config) as engine, engine.connect() as connection:
        rows = leases.node_rows(connection, now)
    lease = config.node.lease
    if args.json:
        for row in rows:
            print(json.dumps({**row.record(now), "live": row.live(now, lease)}))
        return EXIT_OK
    if not rows:
        print("no nodes running")
        return EXIT_OK
    for row in rows:
        state = "live" if row.live(now, lease) else "silent"
        age = (now - row.heartbeat).total_seconds()
        sinks = ",".join(row.sinks) or "-"
        print(
            f"{row.id}  {row.role}  {state}  heartbeat {age:.0f}s ago  "
            f"feeds {row.feeds}  sinks {sinks}  pid {row.pid} on {row.hostname}"
        )
    return EXIT_OK


def cmd_import_opml(args: argparse.Namespace) -> int:
    from newswatch.sources.opml import OpmlError, feeds_yaml, parse_opml
    from newswatch.sources.opmlmerge import MergeError, merge_feeds_file

    try:
        feeds = parse_opml(args.file.read_bytes(), str(args.file))
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    except OpmlError as exc:
        raise UsageError(str(exc)) from None
    feeds = _fetchable(feeds, args.file)
    if args.merge is None:
        print(feeds_yaml(feeds), end="")
        return EXIT_OK
    try:
        added = merge_feeds_file(args.merge, feeds)
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    print(f"{args.merge}: {added} feed(s) added, {len(feeds) - added} already listed")
    return EXIT_OK


def _fetchable(feeds: list[OpmlFeed], where: Path) -> list[OpmlFeed]:
    """The feeds whose URL the config accepts; a line on stderr for each other one
    (its URL could not be fetched, and would make the config refuse the list)."""
    from newswatch.sources.plainurls import feed_url_problem

    kept = []
    for feed in feeds:
        problem = feed_url_problem(feed.url)
        if problem is None:
            kept.append(feed)
        else:
            print(
                f"{where}: skipped the outline {feed.title or feed.url!r}: {problem}",
                file=sys.stderr,
            )
    return kept


def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from newswatch.store.db import schema_revision

    with _database(config) as engine:
        print(f"database schema at revision {schema_revision(engine)}")
    return EXIT_OK


@contextmanager
def _database(config: Config) -> Iterator[Engine]:
    from newswatch.store.db import open_database

    engine = open_database(config.database)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _node(app: App, config: Config) -> Iterator[None]:
    """A one-off command claims feeds (PostgreSQL) and sinks like a node: it never polls a
    feed a running node is polling, nor sends what a running node is sending."""
    from newswatch.log import set_node
    from newswatch.ops.node import Node

    node = Node(app.engine, None, "ingest", config.node.lease)
    node.start()
    set_node(node.id)
    app.pipeline.node = node
    try:
        yield
    finally:
        node.stop()


def _import_pipeline() -> None:
    """What `ingest` imports next (SQLAlchemy, the pipeline): imported while a child
    validates the config, the two on two cores (config/aside.py)."""
    import newswatch.pipeline.app  # noqa: F401


@contextmanager
def _app(
    config: Config, matcher: Matcher | None = None, parse_workers: int | None = None
) -> Iterator[App]:
    from newswatch.pipeline.app import open_app

    app = open_app(config, matcher, parse_workers)
    try:
        yield app
    except KeyboardInterrupt:
        app.pipeline.stop()  # kill the parse workers instead of waiting for their parses
        raise
    finally:
        app.close()


MAX_PARSE_WORKERS = 64  # each is a Python process of ~60 MB at work


def _whole_number(things: str, least: int, most: int | None = None) -> Callable[[str], int]:
    """An argument type: a whole number of `things` from `least` (up to `most`), else
    a usage error saying so."""
    bounds = f"{least} or more" if most is None else f"{least} to {most}"

    def number(text: str) -> int:
        value = int(text) if text.isdigit() else -1
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {things} ({bounds})")
        return value

    return number


_workers = _whole_number("processes", 0, MAX_PARSE_WORKERS)
# SQLite reads a negative LIMIT as none, PostgreSQL refuses it
_count = _whole_number("alerts", 1)


def _since(text: str) -> datetime:
    from newswatch.pipeline import utc_now
    from newswatch.timeparse import parse_since

    try:
        return parse_since(text, utc_now())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# the commands that run threads beside the main one (a node's heartbeat, fetching, parsing)
_THREADED = frozenset({"run", "ingest", "replay", "deliver"})
COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "check": cmd_check,
    "ingest": cmd_ingest,
    "run": cmd_run,
    "match": cmd_match,
    "replay": cmd_replay,
    "purge": cmd_purge,
    "alerts": cmd_alerts,
    "outbox": cmd_outbox,
    "deliver": cmd_deliver,
    "db": cmd_db,
    "feeds": cmd_feeds,
    "stories": cmd_stories,
    "nodes": cmd_nodes,
}
