"""The `decide` graph: the responsible agents settle a problem by vote.

    propose (unless variants are given) -> vote -> tally -> justify

The lead (the first responsible agent) proposes 2-3 variants; every responsible agent votes for one by id with a
reason (schema-constrained: the id must be one of the variants); votes are tallied. Tie-break rule: among the
variants with the most votes, the lead's choice wins; if the lead voted for none of them, the earliest-listed one
does. The lead then writes the justification from the voters' reasons.
"""

import operator
import string
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field, create_model

from agents.config import AgentConfig
from agents.context import TurnContext
from agents.llm import CompletionRequest, LLMClient, TokenCallback, Usage
from agents.prompts import clip, justify_messages, propose_messages, vote_messages
from agents.structured import NONEMPTY, STRIPPED, ask_structured, cut_to

TIE_BREAK_RULE = "a tie goes to the lead's choice, else to the earliest-listed variant"


class ProposedVariant(BaseModel):
    title: Annotated[str, NONEMPTY, cut_to(120)]
    description: Annotated[str, STRIPPED, cut_to(600)] = ""


class Proposal(BaseModel):
    variants: list[ProposedVariant] = Field(min_length=2, max_length=3)


@dataclass(frozen=True)
class Variant:
    id: str
    title: str
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "description": self.description}


@dataclass(frozen=True)
class Vote:
    agent: AgentConfig
    variant_id: str
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
    votes: list[Vote]
    chosen_variant_id: str
    justification: str
    tally: dict[str, int]
    tie_broken: bool
    proposal_usage: Usage = field(default_factory=Usage)
    justification_usage: Usage = field(default_factory=Usage)

    @property
    def chosen(self) -> Variant:
        return next(v for v in self.variants if v.id == self.chosen_variant_id)

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
    variants: list[Variant]
    proposal_usage: Usage
    votes: Annotated[list[Vote], operator.add]
    tally: dict[str, int]
    chosen: str
    tie_broken: bool
    justification: str
    justification_usage: Usage


def vote_model(variant_ids: list[str]) -> type[BaseModel]:
    """The schema of one vote: `variant_id` restricted to these ids, so the grammar cannot pick another."""
    return create_model(
        "Vote",
        variant_id=(Literal[tuple(variant_ids)], ...),  # type: ignore[valid-type,arg-type]
        reason=(Annotated[str, NONEMPTY, cut_to(400)], ...),
    )


def tally_votes(variants: list[Variant], votes: list[Vote], lead: AgentConfig) -> tuple[str, dict[str, int], bool]:
    """(chosen id, votes per variant, whether a tie was broken), by the rule in TIE_BREAK_RULE."""
    counts = {v.id: 0 for v in variants}
    for vote in votes:
        counts[vote.variant_id] += 1
    top = max(counts.values())
    leaders = [vid for vid, n in counts.items() if n == top]
    if len(leaders) == 1:
        return leaders[0], counts, False
    lead_choice = next((v.variant_id for v in votes if v.agent == lead), None)
    return (lead_choice if lead_choice in leaders else leaders[0]), counts, True


def options_text(variants: list[Variant]) -> str:
    return "\n".join(f"{v.id}: {v.title}" + (f" - {v.description}" if v.description else "") for v in variants)


def make_decide_graph(llm: LLMClient, *, on_token: TokenCallback | None = None):
    def propose(state: DecideState) -> DecideState:
        lead = state["voters"][0]
        proposal, usage = ask_structured(
            llm, propose_messages(lead, state["problem"], state["description"], state["context"]), Proposal,
            temperature=lead.temperature, max_tokens=512, on_token=on_token, model_name=lead.model,
        )  # fmt: skip
        variants = [
            Variant(id=letter, title=v.title.strip(), description=v.description.strip())
            for letter, v in zip(string.ascii_uppercase, proposal.variants, strict=False)
        ]
        return {"variants": variants, "proposal_usage": usage}

    def has_variants(state: DecideState) -> str:
        return "vote" if state.get("variants") else "propose"

    def vote(state: DecideState) -> DecideState:
        variants = state["variants"]
        schema = vote_model([v.id for v in variants])
        options = options_text(variants)
        votes = []
        for agent in state["voters"]:
            answer, usage = ask_structured(
                llm, vote_messages(agent, state["problem"], state["description"], options, state["context"]),
                schema, temperature=agent.temperature, max_tokens=256, on_token=on_token, model_name=agent.model,
            )  # fmt: skip
            votes.append(Vote(agent=agent, variant_id=answer.variant_id, reason=answer.reason.strip(), usage=usage))  # type: ignore[attr-defined]
        return {"votes": votes}

    def tally(state: DecideState) -> DecideState:
        chosen, counts, tie_broken = tally_votes(state["variants"], state["votes"], state["voters"][0])
        return {"chosen": chosen, "tally": counts, "tie_broken": tie_broken}

    def justify(state: DecideState) -> DecideState:
        lead = state["voters"][0]
        chosen = next(v for v in state["variants"] if v.id == state["chosen"])
        votes = "\n".join(
            f"- {v.agent.name} ({v.agent.role.value}) voted {v.variant_id}: {v.reason}" for v in state["votes"]
        )
        completion = llm.complete(
            CompletionRequest(
                justify_messages(lead, state["problem"], f"{chosen.id}: {chosen.title}", votes),
                temperature=lead.temperature, max_tokens=256, model=lead.model,
            ),
            on_token,
        )  # fmt: skip
        counts = ", ".join(f"{vid} {n}" for vid, n in state["tally"].items())
        rule = f" Tie broken: {TIE_BREAK_RULE}." if state["tie_broken"] else ""
        written = clip(completion.text, 1500) or f"{chosen.title} received the most votes."
        return {
            "justification": f"{written}\n\nVotes: {counts}.{rule}",
            "justification_usage": completion.usage,
        }

    graph = StateGraph(DecideState)
    graph.add_node("propose", propose)
    graph.add_node("vote", vote)
    graph.add_node("tally", tally)
    graph.add_node("justify", justify)
    graph.add_conditional_edges(START, has_variants, ["propose", "vote"])
    graph.add_edge("propose", "vote")
    graph.add_edge("vote", "tally")
    graph.add_edge("tally", "justify")
    graph.add_edge("justify", END)
    return graph.compile()


def decide(
    llm: LLMClient,
    problem: str,
    voters: list[AgentConfig],
    context: TurnContext,
    *,
    description: str = "",
    variants: list[Variant] | None = None,
    on_token: TokenCallback | None = None,
) -> DecisionResult:
    if not voters:
        raise ValueError("a decision needs at least one responsible agent")
    if variants is not None and len(variants) < 2:
        raise ValueError("a decision needs at least two variants")
    state = make_decide_graph(llm, on_token=on_token).invoke(
        {
            "problem": problem,
            "description": description,
            "context": context,
            "voters": voters,
            "variants": variants or [],
            "votes": [],
        }
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
    )
