"""The writing steps: one agent writes what the step asks (`produce`), or writes under a reviewer who judges each
version until it is approved or the review rounds run out (`produce_reviewed`, the review loop)."""

from temporalio import workflow

from workflows.steps import StepRunner

with workflow.unsafe.imports_passed_through():
    from activities.definitions import ConclaveActivities
    from activities.types import TurnRequest, TurnResult
    from db.enums import MessageType
    from workflows.templates import StepKind, StepSpec
    from workflows.types import TeamMember, summary_of

# Model calls of one turn: a draft, its self-check and one revision.
CALLS_PER_TURN = 3
VERDICTS = {"approve": "approved", "request_changes": "not approved"}


class WritingSteps(StepRunner):
    """The `produce` and `review_loop` kinds of step."""

    async def produce(self, name: str) -> TurnResult | None:
        """One agent writes what the step asks (code blocks become artifacts)."""
        spec = self._spec(name, StepKind.PRODUCE)
        if (author := await self._agent_for(spec, spec.role)) is None:
            return None
        async with self._step(spec, author) as state:
            result = await self._turn(spec, author, "main", spec.task, self_check=spec.self_check)
            state.summary = summary_of(result.summary)
        return result

    async def produce_reviewed(self, name: str) -> TurnResult | None:
        """The author writes, the reviewer judges; the author revises until approved or out of review rounds."""
        spec = self._spec(name, StepKind.REVIEW_LOOP)
        assert spec.reviewer_role is not None, f"the review loop {name} names no reviewer role"
        if (author := await self._agent_for(spec, spec.role)) is None:
            return None
        if (reviewer := await self._agent_for(spec, spec.reviewer_role)) is None:
            return None
        rounds = self._input.options.max_review_rounds
        async with self._step(spec, author) as state:
            work = await self._turn(
                spec, author, "draft", spec.task, self_check=spec.self_check, addressed=[reviewer], ask=True
            )
            for round_ in range(1, rounds + 2):
                review = await self._turn(
                    spec,
                    reviewer,
                    f"review-{round_}",
                    f"Review this {spec.title.lower()}. The task was: {spec.task}",
                    kind="review",
                    subject=spec.title.lower(),
                    reviewed=work,
                    addressed=[author],
                )
                # approved, or no readable verdict (nothing to revise for; a run before this had only these two)
                if review.verdict != "request_changes" or round_ > rounds:
                    break
                work = await self._turn(
                    spec,
                    author,
                    f"revision-{round_}",
                    f"Revise your work so that it answers every finding of {reviewer.name}'s review. {spec.task}",
                    parent=review.message_id,
                    addressed=[reviewer],
                    ask=True,
                )
            outcome = VERDICTS.get(review.verdict or "", "not approved (no readable verdict)")
            revisions = round_ - 1
            state.summary = summary_of(f"{outcome} by {reviewer.name} after {revisions} revision(s). {work.summary}")
        return work

    async def _turn(
        self,
        spec: StepSpec,
        agent: TeamMember,
        turn: str,
        task: str,
        *,
        kind: str = "produce",
        subject: str = "work",
        reviewed: TurnResult | None = None,
        parent: str | None = None,
        addressed: list[TeamMember] | None = None,
        ask: bool = False,
        self_check: bool = False,
    ) -> TurnResult:
        """One agent turn of the step: a draft, a revision or (`kind="review"`) a review of `reviewed`."""
        await self._deliver_messages()
        request = TurnRequest(
            workflow_id=self._input.workflow_id,
            step=spec.name,
            turn=turn,
            agent_id=agent.agent_id,
            task=task,
            kind="review" if kind == "review" else "produce",
            message_type=MessageType.REVIEW.value if kind == "review" else MessageType.PROPOSAL.value,
            subject=subject,
            review_artifact_ids=[a["artifact_id"] for a in reviewed.artifacts] if reviewed else [],
            review_message_id=reviewed.message_id if reviewed else None,
            parent_message_id=parent or (reviewed.message_id if reviewed else None),
            addressed_to=[a.agent_id for a in addressed or []],
            requires_response=ask,
            self_check=self_check,
        )
        state = self._state(spec.name)
        result = await self._model(
            ConclaveActivities.run_agent_turn, request, state, calls=CALLS_PER_TURN, members=[agent]
        )
        self._add_artifacts(state, (a["path"] for a in result.artifacts))
        return result
