"""Run one agent or one decision on a requirement and print the thread (for debugging and demos).

    python -m agents produce --role developer --requirement "Write slugify(text) ..." [--task ...] [--stream]
    python -m agents review  --role reviewer  --requirement "..." --file src/slug.py
    python -m agents decide  --problem "Which storage?" --variant "PostgreSQL" --variant "Files" \\
                             --roles architect,developer,reviewer --requirement "..."

The model is the configured one (LLM_BACKEND, LLM_MODEL_PATH, LLM_BASE_URL); `--model PATH` picks a GGUF file
for this run. Nothing is written to the database: this runs the agents' graphs on their own.
"""

import argparse
import sys
from pathlib import Path

from agents.config import AgentConfig
from agents.context import ArtifactText, TurnContext
from agents.decide import Variant, decide, options_text
from agents.llm import LLMClient, LLMError, TokenCallback, Usage, make_llm
from agents.produce import produce
from agents.review import review
from config import Settings, get_settings
from db.enums import AgentRole

RULE = "-" * 100


def say(author: AgentConfig, kind: str, text: str, usage: Usage | None = None) -> None:
    cost = f"  [{usage.prompt_tokens} + {usage.completion_tokens} tokens, {usage.latency_ms} ms]" if usage else ""
    print(f"{RULE}\n{author.name} ({author.role.value}) - {kind}{cost}\n{RULE}\n{text.strip()}\n")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agents", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("produce", "review", "decide"))
    parser.add_argument("--requirement", required=True, help="what the team is asked to build")
    parser.add_argument("--role", default="developer", choices=[r.value for r in AgentRole])
    parser.add_argument("--task", help="what this turn must produce (default: a sensible one for the role)")
    parser.add_argument("--step", default="cli", help="the step name (used in file paths)")
    parser.add_argument("--file", action="append", default=[], type=Path, help="a file the agent sees (repeatable)")
    parser.add_argument("--problem", help="decide: the question")
    parser.add_argument("--variant", action="append", default=[], help="decide: an option (else the lead proposes)")
    parser.add_argument("--roles", default="architect,developer,reviewer", help="decide: the voters, lead first")
    parser.add_argument("--no-check", action="store_true", help="produce: skip the self-check")
    parser.add_argument("--stream", action="store_true", help="print tokens as they are generated")
    parser.add_argument("--model", type=Path, help="a GGUF file for this run (else LLM_MODEL_PATH or the default)")
    parser.add_argument("--seed", type=int, help="fix the sampling (the same answers again on this machine)")
    return parser


def run_produce(llm: LLMClient, args: argparse.Namespace, context: TurnContext, on_token: TokenCallback | None) -> None:
    agent = AgentConfig.from_template(args.role)
    result = produce(llm, agent, context, self_check=not args.no_check, seed=args.seed, on_token=on_token)
    say(agent, "proposal" + (" (revised after self-check)" if result.revised else ""), result.text, result.usage)
    for f in result.files:
        print(f"file: {f.path} ({len(f.code.encode())} bytes, {f.language})")


def run_review(llm: LLMClient, args: argparse.Namespace, context: TurnContext, on_token: TokenCallback | None) -> None:
    agent = AgentConfig.from_template(args.role)
    work = "\n\n".join(f"`{f.path}`\n```\n{f.content}\n```" for f in context.artifacts)
    result = review(llm, agent, context, work, subject="code", seed=args.seed, on_token=on_token)
    say(agent, "review", result.text, result.usage)


def run_decide(llm: LLMClient, args: argparse.Namespace, context: TurnContext, on_token: TokenCallback | None) -> None:
    voters = [AgentConfig.from_template(r.strip()) for r in args.roles.split(",") if r.strip()]
    given = [Variant(chr(ord("A") + i), title) for i, title in enumerate(args.variant)] or None
    d = decide(llm, args.problem, voters, context, variants=given, seed=args.seed, on_token=on_token)
    options = options_text(d.variants)
    say(voters[0], "proposal", f"Decision needed: {args.problem}\n\nOptions:\n{options}", d.proposal_usage)
    for vote in d.votes:
        said = f"I vote {vote.variant_id}: {vote.reason}" if vote.variant_id else f"I abstain: {vote.reason}"
        say(vote.agent, "vote", said, vote.usage)
    heading = "Decision (uncontested)" if d.uncontested else "Decision"
    decision = f"{heading}: {d.chosen.id} - {d.chosen.title}\n\n{d.justification}"
    say(voters[0], "decision", decision, d.justification_usage)


COMMANDS = {"produce": run_produce, "review": run_review, "decide": run_decide}


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    settings: Settings = get_settings()
    if args.model:
        settings = settings.model_copy(update={"llm_model_path": args.model, "llm_backend": "llama_cpp"})
    files = tuple(ArtifactText(str(f), f.read_text(errors="replace")) for f in args.file)
    context = TurnContext(
        requirement=args.requirement,
        step=args.step,
        task=args.task or f"Do your part as the {args.role.replace('_', ' ')} for this requirement.",
        artifacts=files,
    )
    on_token = (lambda piece: print(piece, end="", file=sys.stderr, flush=True)) if args.stream else None
    try:
        llm = make_llm(settings)
        print(f"Requirement: {args.requirement}\n")
        if args.command == "review" and not files:
            parser.error("review needs --file")
        if args.command == "decide" and not args.problem:
            parser.error("decide needs --problem")
        COMMANDS[args.command](llm, args, context, on_token)
        return 0
    except (LLMError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
