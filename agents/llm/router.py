"""One client over several model services: each request goes to the server of the model it names.

An agent's `model` (its row's, else its role's from LLM_ROLE_MODELS) travels in `CompletionRequest.model`; the
router sends the request to that model's OpenAI-compatible server and a name no service has to the default one
(logged once), so an agent with a model name from elsewhere still gets answers.
"""

import logging
import threading

from agents.llm.base import Completion, CompletionRequest, LLMError, TokenCallback
from agents.llm.openai_compat import OpenAICompatBackend
from agents.llm.turns import ServerTurns

log = logging.getLogger(__name__)


class ModelRouter:
    name = "openai"

    def __init__(
        self,
        services: dict[str, str],
        default: str | None,
        api_key: str | None = None,
        timeout: float = 600,
        wait_for_server: float = 0,
        take_turns: bool = False,
    ) -> None:
        """`take_turns`: the servers share this machine's cores, so one computes at a time (agents/llm/turns.py)."""
        if not services and default is None:
            raise LLMError("no model service: set LLM_SERVICES or LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
        self.services = dict(services)
        self.default = default
        # One HTTP client per server (its connection pool is shared by the model activities' threads).
        urls = {*services.values(), *([default] if default else [])}
        self._backends = {
            url: OpenAICompatBackend(url, api_key=api_key, timeout=timeout, wait_for_server=wait_for_server)
            for url in urls
        }
        self._unknown: set[str] = set()
        self._lock = threading.Lock()
        self._turns = ServerTurns() if take_turns and len(self._backends) > 1 else None

    def url_for(self, model: str | None) -> str:
        if model in self.services:
            return self.services[model]
        if self.default is None:
            raise LLMError(f"no model service runs {model!r} (LLM_SERVICES has {', '.join(self.services)})")
        with self._lock:
            if (model or "") not in self._unknown:
                self._unknown.add(model or "")
                log.warning("no model service is named %r: its requests go to %s", model, self.default)
        return self.default

    def complete(self, request: CompletionRequest, on_token: TokenCallback | None = None) -> Completion:
        url = self.url_for(request.model)
        if self._turns is None:
            return self._backends[url].complete(request, on_token)
        # while it waits for its turn, an empty piece lets the caller give up (a cancelled activity raises)
        with self._turns.turn(url, (lambda: on_token("")) if on_token else lambda: None):
            return self._backends[url].complete(request, on_token)
