"""``tramtiem-hub`` subcommands for the dashboard (wired in by ``hub/cli.py``).

    tramtiem-hub dashboard-user add USERNAME --scope province:75|district:<area>|site:<code> [--password-stdin]
    tramtiem-hub dashboard-user list [--json] | dashboard-user disable USERNAME
    tramtiem-hub dashboard-user unlock USERNAME     (lift a lockout after failed logins)
    tramtiem-hub allocation set (--site CODE | --area CODE | --province CODE) --doses N
    tramtiem-hub area assign AREA SITE [SITE ...] [--name NAME]

Without ``--password-stdin`` the password is asked twice on the terminal (never
an argument: it would land in the shell history and the process list).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from hub.dashboard import auth, data
from hub.db import Database
from hub.errors import HubError
from hub.ingest import utc_now

COMMANDS = frozenset({"dashboard-user", "allocation", "area"})


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    du = sub.add_parser("dashboard-user", parents=[common], help="dashboard logins")
    du_sub = du.add_subparsers(dest="du_cmd", required=True)
    add = du_sub.add_parser("add", parents=[common])
    add.add_argument("username")
    add.add_argument("--scope", required=True, help="province:75, district:<area code>, or site:<site code> (a site hub's supervisor)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    du_sub.add_parser("list", parents=[common]).add_argument("--json", action="store_true")
    du_sub.add_parser("disable", parents=[common]).add_argument("username")
    du_sub.add_parser("unlock", parents=[common]).add_argument("username")

    alloc = sub.add_parser("allocation", parents=[common], help="doses allocated")
    al_sub = alloc.add_subparsers(dest="alloc_cmd", required=True)
    aset = al_sub.add_parser("set", parents=[common])
    which = aset.add_mutually_exclusive_group(required=True)
    which.add_argument("--site")
    which.add_argument("--area")
    which.add_argument("--province")
    aset.add_argument("--doses", type=int, required=True)

    area = sub.add_parser("area", parents=[common], help="group sites into dashboard areas")
    ar_sub = area.add_subparsers(dest="area_cmd", required=True)
    assign = ar_sub.add_parser("assign", parents=[common])
    assign.add_argument("area", help="a 2025 commune/ward code, or a code for a former district")
    assign.add_argument("sites", nargs="+")
    assign.add_argument("--name", help="the area's name (default: the ward's name for ward codes)")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise HubError(400, "dashboard.password_mismatch", "the two passwords differ")
    return first


def run(args: argparse.Namespace, db: Database) -> None:
    if args.cmd == "dashboard-user":
        if args.du_cmd == "add":
            scope = auth.parse_scope(args.scope)
            password = _read_password(args.password_stdin)
            auth.add_user(db, args.username, password, scope, now=utc_now())
            print(f"dashboard user {args.username.strip().lower()} added ({scope})")
        elif args.du_cmd == "list":
            rows = auth.list_users(db, now=utc_now())
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for r in rows:
                    state = "active" if r["active"] else "disabled"
                    print(f"{r['username']}\t{r['scope']}\t{state}\t{r['last_login_at'] or '-'}")
        elif args.du_cmd == "unlock":
            auth.unlock_user(db, args.username)
            print(f"dashboard user {args.username.strip().lower()} unlocked")
        else:
            auth.disable_user(db, args.username)
            print(f"dashboard user {args.username.strip().lower()} disabled")
    elif args.cmd == "allocation":
        if args.site:
            level, code = "site", args.site.strip().upper()
        elif args.area:
            level, code = "area", args.area.strip().upper()
        else:
            level, code = "province", args.province.strip()
        data.set_allocation(db, level, code, args.doses, now=utc_now())
        print(f"allocation {level} {code}: {args.doses} doses")
    elif args.cmd == "area":
        code = args.area.strip().upper()
        if not auth.AREA_RE.match(code):
            raise HubError(400, "area.bad_code", "area code: 1-16 of A-Z, 0-9 and '-'")
        sites = [s.strip().upper() for s in args.sites]
        data.assign_area(db, sites, code, (args.name or "").strip() or None)
        print(f"{len(sites)} site(s) in area {code}")
