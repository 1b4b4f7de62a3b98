"""``fenliu policy check FILE``: validate a shop policy and print what it amounts to."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="check a shop policy file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a policy file (TOML) and print a summary",
                               description="Exit 0 and print a summary when the policy is valid; exit 2 "
                                           "with the key path and the problem when it is not.")
    check.add_argument("file", help="policy file (TOML)")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from console.policy_file import load_policy_file
    from console.routing.policy import PolicyError
    from console.routing.summary import describe

    try:
        policy = load_policy_file(args.file)
    except PolicyError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    print(describe(policy))
    return 0
