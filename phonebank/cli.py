"""The `phonebank` command: composes the engine and the web app into one program."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from engine.config import Config, load_config
from engine.errors import InvalidInput, PhonebankError
from engine.pbx.dialer import start_dialer
from engine.pbx.rootfs import ensure_runtime, existing_runtime
from engine.pbx.run import PbxRun, load_run
from phonebank.admin import add_operator, import_list, remove_operator
from phonebank.backup import backup_database, restore_database
from phonebank.check import add_check_command
from phonebank.kamailio import write_front
from phonebank.proxy import write_node_routes
from phonebank.serve import serve
from phonebank.sounds import run_write_sounds

log = logging.getLogger("phonebank")


def main(argv: list[str] | None = None) -> int:
    return run_cli(_parser(), argv)


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv``, set up logging and the configuration, and run the chosen command's
    ``func(cfg, args)``; an error is one line on stderr and exit code 1."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level or "INFO",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        cfg = load_config(args.config)
        if args.log_level is None:
            logging.getLogger().setLevel(cfg.log_level)
        result: int = args.func(cfg, args)
        return result
    except PhonebankError as exc:
        print(f"phonebank: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonebank", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser(
        "run",
        help="start the dialer PBX, the engine and the web app until Ctrl-C; the phone "
        "network is the SIP carrier of [trunk] ('python -m testbed run': the simulator); "
        "with [[nodes]], drive those running nodes instead (docs/scaling.md)",
    ).set_defaults(func=cmd_run)

    imp = commands.add_parser("import", help="import a voter list (CSV) into a campaign")
    imp.add_argument("file", type=Path)
    imp.add_argument("--campaign", required=True, help="campaign name")
    imp.add_argument(
        "--create",
        action="store_true",
        help="create the campaign if missing (not when the file is rejected)",
    )
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=USE",
        help="read COLUMN (a header, or a position from 1) as USE: phone, first_name, "
        "last_name, name, address, city, state, zip, party, age, line_type, mobile_flag, "
        "extra or ignore (repeat for more columns)",
    )
    imp.set_defaults(func=cmd_import)

    operator = commands.add_parser("operator", help="manage operator accounts")
    operator_commands = operator.add_subparsers(dest="operator_command", required=True)
    add = operator_commands.add_parser("add", help="add an operator (asks for the password)")
    add.add_argument("username")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (for scripts)",
    )
    add.set_defaults(func=cmd_operator_add)
    remove = operator_commands.add_parser(
        "remove", help="remove an operator and revoke their API tokens (asks to confirm)"
    )
    remove.add_argument("username")
    remove.add_argument("--yes", action="store_true", help="do not ask to confirm (for scripts)")
    remove.set_defaults(func=cmd_operator_remove)

    add_check_command(commands)
    backup = commands.add_parser(
        "backup", help="copy the database to FILE, consistently, also while phonebank runs"
    )
    backup.add_argument("file", type=Path)
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser(
        "restore",
        help="replace the database with the backup FILE (phonebank must be stopped); the "
        "replaced one is kept as <database>.before-restore-<time>",
    )
    restore.add_argument("file", type=Path)
    restore.set_defaults(func=cmd_restore)

    pbx = commands.add_parser("pbx", help="manage the Asterisk PBX")
    pbx_commands = pbx.add_subparsers(dest="pbx_command", required=True)
    pbx_commands.add_parser("build", help="build or reuse the Asterisk rootfs").set_defaults(
        func=cmd_pbx_build
    )
    pbx_commands.add_parser(
        "start", help="start the dialer PBX in the background ([trunk] is its carrier)"
    ).set_defaults(func=cmd_pbx_start)
    pbx_commands.add_parser(
        "stop",
        help="stop the PBX started by 'phonebank pbx start' (or 'python -m testbed start')",
    ).set_defaults(func=cmd_pbx_stop)
    pbx_commands.add_parser(
        "status", help="show whether the PBX is running, its ports and logs"
    ).set_defaults(func=cmd_pbx_status)
    sounds = pbx_commands.add_parser(
        "sounds",
        help="write every message the engine may speak (its own and each campaign's) as WAV "
        "files into DIR, to install on dialer nodes at their nodes[].sounds_dir",
    )
    sounds.add_argument(
        "--out", type=Path, help="directory to write into (default: engine.sounds_dir)"
    )
    sounds.set_defaults(func=cmd_pbx_sounds)
    cli = pbx_commands.add_parser("cli", help="run an Asterisk CLI command on one instance")
    cli.add_argument("instance", choices=["dialer", "carrier"])
    cli.add_argument("command", help='e.g. "pjsip show endpoints"')
    cli.set_defaults(func=cmd_pbx_cli)

    front = commands.add_parser(
        "kamailio",
        help="write the Kamailio SIP front's kamailio.cfg and dispatcher.list (the nodes of "
        "[[nodes]], the carrier of [trunk]) into DIR",
    )
    front.add_argument("--out", type=Path, required=True, help="directory, e.g. /etc/kamailio")
    front.add_argument(
        "--listen", default="0.0.0.0:5060", help="ADDRESS:PORT of its SIP socket (UDP)"
    )
    front.add_argument(
        "--advertise",
        default="",
        help="ADDRESS:PORT the nodes and the carrier send to (needed with 0.0.0.0)",
    )
    front.add_argument(
        "--callin-from",
        default="",
        help="the carrier's addresses or networks call-ins may come from, comma-separated "
        "(e.g. 198.51.100.0/24,203.0.113.7); default: any address",
    )
    front.set_defaults(func=cmd_kamailio)

    routes = commands.add_parser(
        "proxy-routes",
        help="write the front proxy's route to each node's softphone WebSocket (/<node>/ws) "
        "into DIR, for docker/Caddyfile to import (PHONEBANK_NODE_ROUTES)",
    )
    routes.add_argument("--out", type=Path, required=True, help="e.g. /etc/caddy/phonebank-nodes")
    routes.set_defaults(func=cmd_proxy_routes)
    return parser


def cmd_proxy_routes(cfg: Config, args: argparse.Namespace) -> int:
    written, removed = write_node_routes(cfg, args.out)
    for path in written:
        print(f"wrote {path}")
    for path in removed:
        print(f"removed {path} (its node is no longer in [[nodes]])")
    print(
        f"start Caddy with PHONEBANK_NODE_ROUTES={args.out} (or reload it: `caddy reload`); "
        "after changing [[nodes]], write them again"
    )
    return 0


def cmd_pbx_sounds(cfg: Config, args: argparse.Namespace) -> int:
    return run_write_sounds(cfg, args.out or cfg.engine.sounds_dir)


def cmd_kamailio(cfg: Config, args: argparse.Namespace) -> int:
    for path in write_front(cfg, args.listen, args.out, args.advertise, args.callin_from):
        print(f"wrote {path}")
    if not args.callin_from:
        print(
            "call-ins are taken from any address: give --callin-from with your carrier's "
            "addresses so nobody else can send calls to the nodes"
        )
    print(
        "install them as Kamailio's configuration (Debian: /etc/kamailio/kamailio.cfg), then "
        "start it; after changing [[nodes]], write them again and run "
        "`kamcmd dispatcher.reload`"
    )
    return 0


def cmd_pbx_build(cfg: Config, args: argparse.Namespace) -> int:
    started = time.monotonic()
    runtime = ensure_runtime(cfg.pbx)
    print(f"Asterisk {runtime.version()} ready in {runtime.root} (chroot: {runtime.chroot})")
    print(f"took {time.monotonic() - started:.1f} s")
    return 0


def cmd_pbx_start(cfg: Config, args: argparse.Namespace) -> int:
    print_run(start_dialer(cfg.pbx, cfg.pbx.name, cfg.trunk, detached=True))
    return 0


def cmd_pbx_stop(cfg: Config, args: argparse.Namespace) -> int:
    run = _running(cfg)
    if run is None:
        print("the PBX is not running")
        return 0
    run.stop()
    print("stopped " + ", ".join(f"the {i.spec.name} PBX" for i in run.instances))
    return 0


def cmd_pbx_status(cfg: Config, args: argparse.Namespace) -> int:
    run = _running(cfg)
    if run is None:
        print(f"the PBX is not running ({START_HINT})")
        return 3
    print_run(run)
    return 0 if all(i.pid and i.healthy() for i in run.instances) else 1


def cmd_pbx_cli(cfg: Config, args: argparse.Namespace) -> int:
    run = _running(cfg)
    if run is None:
        print(f"the PBX is not running ({START_HINT})", file=sys.stderr)
        return 3
    try:
        instance = run.instance(args.instance)
    except KeyError:
        print(f"the running PBX has no {args.instance} instance", file=sys.stderr)
        return 3
    print(instance.cli(args.command), end="")
    return 0


START_HINT = "'phonebank pbx start' starts it; 'python -m testbed start' with the carrier simulator"


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    return serve(cfg, args.config)


def cmd_import(cfg: Config, args: argparse.Namespace) -> int:
    choices = {}
    for item in args.map:
        column, sep, use = item.partition("=")
        if not sep or not column.strip():
            raise InvalidInput(f"--map {item!r}: write it as COLUMN=USE, e.g. --map Telefon=phone")
        choices[column.strip()] = use.strip()
    return import_list(cfg, args.file, args.campaign, args.create, choices)


def cmd_operator_add(cfg: Config, args: argparse.Namespace) -> int:
    return add_operator(cfg, args.username, args.password_stdin)


def cmd_operator_remove(cfg: Config, args: argparse.Namespace) -> int:
    return remove_operator(cfg, args.username, args.yes)


def cmd_backup(cfg: Config, args: argparse.Namespace) -> int:
    return backup_database(cfg, args.file, args.force)


def cmd_restore(cfg: Config, args: argparse.Namespace) -> int:
    return restore_database(cfg, args.file)


def _running(cfg: Config) -> PbxRun | None:
    runtime = existing_runtime(cfg.pbx)
    return None if runtime is None else load_run(cfg.pbx, runtime, cfg.pbx.name)


def print_run(run: PbxRun) -> None:
    """Each instance of ``run``: whether it answers, its PID, ports and log."""
    for instance in run.instances:
        spec = instance.spec
        state = "running" if instance.pid and instance.healthy() else "NOT RUNNING"
        print(
            f"{spec.name:8} {state:11} pid {instance.pid}  SIP udp/{spec.sip_port}  "
            f"ARI {spec.ari_url} (user {spec.ari_user}, app {spec.ari_app})  "
            f"RTP {spec.rtp_start}-{spec.rtp_end}"
        )
        print(f"{'':8} log {instance.path('log')}")
    print(
        f"call-in number {run.dialer.spec.extra['callin_number']}; "
        f"credentials in {run.run_dir}/owner.json"
    )


if __name__ == "__main__":
    sys.exit(main())
