r"""The `decide` graph: the responsible agents settle a problem by vote.

    propose (unless variants are given) -> vote -> tally -> justify
            \-> uncontested (fewer than two distinct options)

The lead (the first responsible agent) proposes 2-3 variants: the grammar asks for at least two, and options that
repeat one another are dropped; while fewer than two distinct ones remain, the lead is asked for one more option,
different from those (`ALTERNATIVE_ATTEMPTS` times). Every responsible agent votes for one by id with a reason
(schema-constrained: the id must be one of the variants); votes are tallied. Tie-break rule: among the variants
with the most votes, the lead's choice wins; if the lead voted for none of them, the earliest-listed one does. The
lead then writes the justification from the voters' reasons.

No decision fails on the shape of an answer (each last resort is recorded as a `Fallback`):
- still fewer than two options: the decision is *uncontested*, recorded with its one option (with none readable at
  all: `DEFAULT_VARIANT`, going ahead as the requirement says), without a vote, the reason in its justification;
- a vote that cannot be read is asked for again as the option's id alone; if that fails too, the agent abstains
  (recorded, not counted; with no vote at all, the tie rule picks the earliest-listed option);
- an empty justification is replaced by the tally.
"""

import operator
import string
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model, model_validator

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import CompletionRequest, LLMClient, TokenCallback, Usage, sub_seed
from agents.prompts import (
    alternative_messages,
    choice_messages,
    clip,
    justify_messages,
    propose_messages,
    vote_messages,
)
from agents.structured import Asked, Fallback, ModelContext, same_text, text, text_key

TIE_BREAK_RULE = "a tie goes to the lead's choice, else to the earliest-listed variant"
# Follow-ups asking the lead for one more option when its proposal had fewer than two distinct ones.
ALTERNATIVE_ATTEMPTS = 2
# Each follow-up a little warmer than the proposal, so it does not write the same option again.
ALTERNATIVE_WARMER = 0.3
NO_REASON = "(no reason given: only the option's id could be read from the answer)"


class ProposedVariant(BaseModel):
    title: text(80)  # type: ignore[valid-type]
    description: text(300, required=False) = ""  # type: ignore[valid-type]


class Proposal(BaseModel):
    # The grammar asks for two or three (minItems 2); options that repeat one another, or have a blank title, are
    # dropped before validation, so one may remain: then the lead is asked for another.
    variants: list[ProposedVariant] = Field(min_length=1, max_length=3, json_schema_extra={"minItems": 2})

    @model_validator(mode="before")
    @classmethod
    def _distinct(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("variants"), list):
            kept, seen = [], set()
            for variant in data["variants"]:
                key = text_key(variant.get("title")) if isinstance(variant, dict) else ""
                if key and key not in seen:
                    seen.add(key)
                    kept.append(variant)
            data = {**data, "variants": kept}
        return data


@dataclass(frozen=True)
class Variant:
    id: str
    title: str
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "description": self.description}


DEFAULT_VARIANT = Variant(
    "A",
    "Go ahead as the requirement says",
    "No option could be read from the lead's answers, so the team follows the requirement as written.",
)


@dataclass(frozen=True)
class Vote:
    agent: AgentConfig
    variant_id: str | None  # None: the agent abstained (no readable vote)
    reason: str
    usage: Usage

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_id": str(self.agent.agent_id) if self.agent.agent_id else None,
            "agent_name": self.agent.name,
            "agent_role": self.agent.role.value,
            "variant_id": self.variant_id,
            "reason": self.reason,
        }


@dataclass
class DecisionResult:
    problem: str
    description: str
    variants: list[Variant]
    votes: list[Vote]  # one per voter, abstentions included (variant_id None); none when uncontested
    chosen_variant_id: str
    justification: str
    tally: dict[str, int]
    tie_broken: bool
    proposal_usage: Usage = field(default_factory=Usage)
    justification_usage: Usage = field(default_factory=Usage)
    uncontested: bool = False
    fallbacks: list[Fallback] = field(default_factory=list)

    @property
    def chosen(self) -> Variant:
        return next(v for v in self.variants if v.id == self.chosen_variant_id)

    @property
    def cast(self) -> list[Vote]:
        """The votes that count (abstentions left out)."""
        return [v for v in self.votes if v.variant_id is not None]

    @property
    def usage(self) -> Usage:
        total = self.proposal_usage + self.justification_usage
        for vote in self.votes:
            total = total + vote.usage
        return total


class DecideState(TypedDict, total=False):
    problem: str
    description: str
    context: TurnContext
    voters: list[AgentConfig]
    seed: int | None
    variants: list[Variant]
    proposal_usage: Usage
    votes: Annotated[list[Vote], operator.add]
    tally: dict[str, int]
    chosen: str
    tie_broken: bool
    justification: str
    justification_usage: Usage
    uncontested: bool
    fallbacks: Annotated[list[Fallback], operator.add]


def vote_model(variant_ids: list[str]) -> type[BaseModel]:
    """The schema of one vote: `variant_id` restricted to these ids, so the grammar cannot pick another."""
    return create_model(
        "Vote",
        variant_id=(Literal[tuple(variant_ids)], ...),  # type: ignore[valid-type,arg-type]
        reason=(text(300), ...),
    )


def choice_model(variant_ids: list[str]) -> type[BaseModel]:
    """A vote's last form: the id alone."""
    return create_model("Choice", variant_id=(Literal[tuple(variant_ids)], ...))  # type: ignore[valid-type,arg-type]


def tally_votes(variants: list[Variant], votes: list[Vote], lead: AgentConfig) -> tuple[str, dict[str, int], bool]:
    """(chosen id, votes per variant, whether a tie was broken), by the rule in TIE_BREAK_RULE; abstentions do not
    count."""
    counts = {v.id: 0 for v in variants}
    for vote in votes:
        if vote.variant_id is not None:
            counts[vote.variant_id] += 1
    top = max(counts.values())
    leaders = [vid for vid, n in counts.items() if n == top]
    if len(leaders) == 1:
        return leaders[0], counts, False
    lead_choice = next((v.variant_id for v in votes if v.agent == lead), None)
    return (lead_choice if lead_choice in leaders else leaders[0]), counts, True


def options_text(variants: list[Variant]) -> str:
    return "\n".join(f"{v.id}: {v.title}" + (f" - {v.description}" if v.description else "") for v in variants)


def decide(
    llm: LLMClient,
    problem: str,
    voters: list[AgentConfig],
    context: TurnContext,
    *,
    description: str = "",
    variants: list[Variant] | None = None,
    seed: int | None = None,
    on_token: TokenCallback | None = None,
) -> DecisionResult:
    """The voters' decision on `problem` (the lead first); with `variants` given, the lead proposes none."""
    if not voters:
        raise ValueError("a decision needs at least one responsible agent")
    if variants is not None and len(variants) < 2:
        raise ValueError("a decision needs at least two variants")
    state = make_decide_graph().invoke(
        {
            "problem": problem,
            "description": description,
            "context": context,
            "voters": voters,
            "seed": seed,
            "variants": variants or [],
            "votes": [],
            "fallbacks": [],
        },
        context=ModelContext(llm, on_token),
    )
    return DecisionResult(
        problem=problem,
        description=description,
        variants=state["variants"],
        votes=state["votes"],
        chosen_variant_id=state["chosen"],
        justification=state["justification"],
        tally=state["tally"],
        tie_broken=state["tie_broken"],
        proposal_usage=state.get("proposal_usage", Usage()),
        justification_usage=state["justification_usage"],
        uncontested=state.get("uncontested", False),
        fallbacks=state.get("fallbacks", []),
    )


# The graph's nodes, in the order they run; `make_decide_graph` at the end puts them together.


def propose(state: DecideState, runtime: Runtime[ModelContext]) -> DecideState:
    """The lead's options; while fewer than two distinct ones remain, it is asked for one more that differs."""
    lead = state["voters"][0]
    asked = runtime.context.ask(
        propose_messages(lead, state["problem"], state["description"], state["context"]),
        Proposal,
        temperature=lead.temperature,
        seed=sub_seed(state.get("seed"), "propose"),
        model_name=lead.model,
    )
    if asked.answer is not None:
        proposed = list(asked.answer.variants)
        problem = f"the lead's options repeated one another (only {proposed[0].title!r} was distinct)"
    else:
        proposed, problem = [], f"the lead's proposal could not be read ({asked.problem})"
    usage = asked.usage
    fallbacks: list[Fallback] = []
    for attempt in range(1, ALTERNATIVE_ATTEMPTS + 1):
        if len(proposed) >= 2:
            break
        if attempt == 1:
            fallbacks.append(Fallback("proposal", "asked_again", problem))
        extra = _one_more_option(state, runtime.context, [v.title for v in proposed], attempt)
        usage = usage + extra.usage
        if extra.answer is not None and not any(same_text(extra.answer.title, v.title) for v in proposed):
            proposed.append(extra.answer)
    variants = [
        Variant(id=letter, title=v.title, description=v.description)
        for letter, v in zip(string.ascii_uppercase, proposed, strict=False)
    ]
    if len(variants) < 2:
        reason = f"{problem}; asked {ALTERNATIVE_ATTEMPTS} times for another option, the lead gave none that differs"
        fallbacks.append(Fallback("proposal", "uncontested", reason))
    return {"variants": variants or [DEFAULT_VARIANT], "proposal_usage": usage, "fallbacks": fallbacks}


def _one_more_option(
    state: DecideState, model: ModelContext, titles: list[str], attempt: int
) -> Asked[ProposedVariant]:
    """One more option from the lead, different from `titles`: each attempt a little warmer, with no repair."""
    lead = state["voters"][0]
    return model.ask(
        alternative_messages(lead, state["problem"], state["description"], state["context"], titles),
        ProposedVariant,
        temperature=min(lead.temperature + ALTERNATIVE_WARMER * attempt, 1.0),
        seed=sub_seed(state.get("seed"), "alternative", attempt),
        model_name=lead.model,
        max_repairs=0,
    )


def uncontested(state: DecideState) -> DecideState:
    only = state["variants"][0]
    reason = state["fallbacks"][-1].reason if state.get("fallbacks") else "there was one option"
    return {
        "chosen": only.id,
        "tally": {only.id: 0},
        "tie_broken": False,
        "uncontested": True,
        "justification": f"Uncontested: {reason}. With nothing to vote on, the team goes ahead with {only.id} - "
        f"{only.title}.",
        "justification_usage": Usage(),
    }


def vote(state: DecideState, runtime: Runtime[ModelContext]) -> DecideState:
    """Every responsible agent's vote, in order; a vote that cannot be read is asked for again as the id alone."""
    votes, fallbacks = [], []
    for agent in state["voters"]:
        cast, fallback = _vote_of(agent, state, runtime.context)
        votes.append(cast)
        fallbacks += [fallback] if fallback else []
    return {"votes": votes, "fallbacks": fallbacks}


def _vote_of(agent: AgentConfig, state: DecideState, model: ModelContext) -> tuple[Vote, Fallback | None]:
    variants, seed = state["variants"], state.get("seed")
    ids, options = [v.id for v in variants], options_text(variants)
    full = model.ask(
        vote_messages(agent, state["problem"], state["description"], options, state["context"]),
        vote_model(ids),
        temperature=agent.temperature,
        seed=sub_seed(seed, "vote", agent.name),
        model_name=agent.model,
    )
    if full.answer is not None:
        return Vote(agent, full.answer.variant_id, full.answer.reason, full.usage), None  # type: ignore[attr-defined]
    choice = model.ask(
        choice_messages(agent, state["problem"], options),
        choice_model(ids),
        temperature=0.0,
        seed=sub_seed(seed, "choice", agent.name),
        model_name=agent.model,
        max_repairs=0,
    )
    usage = full.usage + choice.usage
    if choice.answer is not None:
        fallback = Fallback("vote", "id_only", f"{agent.name}'s vote could not be read ({full.problem})")
        return Vote(agent, choice.answer.variant_id, NO_REASON, usage), fallback  # type: ignore[attr-defined]
    abstained = Vote(agent, None, f"no readable vote ({full.problem})", usage)
    return abstained, Fallback("vote", "abstained", f"{agent.name}'s vote could not be read ({choice.problem})")


def tally(state: DecideState) -> DecideState:
    chosen, counts, tie_broken = tally_votes(state["variants"], state["votes"], state["voters"][0])
    return {"chosen": chosen, "tally": counts, "tie_broken": tie_broken}


def justify(state: DecideState, runtime: Runtime[ModelContext]) -> DecideState:
    """The lead's justification from the voters' reasons, under the tally (with no vote cast: the tally alone)."""
    lead = state["voters"][0]
    chosen = next(v for v in state["variants"] if v.id == state["chosen"])
    cast = [v for v in state["votes"] if v.variant_id is not None]
    abstained = len(state["votes"]) - len(cast)
    counts = ", ".join(f"{vid} {n}" for vid, n in state["tally"].items())
    counts += f"; {abstained} abstained (no readable vote)" if abstained else ""
    rule = f" Tie broken: {TIE_BREAK_RULE}." if state["tie_broken"] else ""
    if not cast:
        return {
            "justification": f"No readable vote came in, so {chosen.id} stands by the tie rule.\n\nVotes: "
            f"{counts}.{rule}",
            "justification_usage": Usage(),
        }
    votes = "\n".join(f"- {v.agent.name} ({v.agent.role.value}) voted {v.variant_id}: {v.reason}" for v in cast)
    completion = runtime.context.complete(
        CompletionRequest(
            justify_messages(lead, state["problem"], f"{chosen.id}: {chosen.title}", votes),
            temperature=lead.temperature,
            max_tokens=256,
            seed=sub_seed(state.get("seed"), "justify"),
            model=lead.model,
        )
    )
    written = clip(completion.text, 1500) or f"{chosen.title} received the most votes."
    return {"justification": f"{written}\n\nVotes: {counts}.{rule}", "justification_usage": completion.usage}


def given_or_proposed(state: DecideState) -> str:
    return "vote" if state.get("variants") else "propose"


def contested(state: DecideState) -> str:
    return "vote" if len(state["variants"]) >= 2 else "uncontested"


def make_decide_graph() -> Any:
    graph = StateGraph(DecideState, context_schema=ModelContext)
    graph.add_node("propose", propose)
    graph.add_node("uncontested", uncontested)
    graph.add_node("vote", vote)
    graph.add_node("tally", tally)
    graph.add_node("justify", justify)
    graph.add_conditional_edges(START, given_or_proposed, ["propose", "vote"])
    graph.add_conditional_edges("propose", contested, ["vote", "uncontested"])
    graph.add_edge("uncontested", END)
    graph.add_edge("vote", "tally")
    graph.add_edge("tally", "justify")
    graph.add_edge("justify", END)
    return graph.compile()
