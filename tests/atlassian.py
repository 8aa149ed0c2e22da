"""A small, stateful stand-in for Jira (REST v2) and Confluence (REST), served on a real socket.

It answers the endpoints that the real clients `jira` (pycontribs) and `atlassian-python-api` call for what Conclave
mirrors (an epic, stories, comments and transitions; one page per run) with the real servers' shapes, status codes,
messages and validation on those endpoints. It exists because DESIGN.md (Tests) allows exactly this one stand-in,
for the external boundary: the product's tests drive the real clients against it, never mocks of them.

Jira is under `/jira` (Server, or Cloud with `cloud=True`), Confluence under `/wiki`; both want HTTP basic auth.
"""

import base64
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.sse import LiveServer

JIRA_USER, JIRA_TOKEN = "conclave-bot@example.com", "jira-secret-token-123"
CONFLUENCE_USER, CONFLUENCE_TOKEN = "conclave-bot@example.com", "confluence-secret-token-456"

Json = dict[str, Any]
EPIC_NAME, EPIC_LINK = "customfield_10011", "customfield_10014"
ISSUE_TYPES = {"Epic": "10000", "Story": "10001", "Task": "10002"}
STATUSES = {"To Do": ("10000", "new"), "In Progress": ("3", "indeterminate"), "Done": ("10001", "done")}
CATEGORIES = {"new": (2, "To Do"), "indeterminate": (4, "In Progress"), "done": (3, "Done")}
# (id, name, from, to): the ids are not 1, 2, 3 on purpose, so that code has to ask for them
TRANSITIONS = [
    ("21", "Start work", "To Do", "In Progress"),
    ("31", "Finish", "In Progress", "Done"),
    ("41", "Close", "To Do", "Done"),
    ("51", "Reopen", "Done", "To Do"),
]
JQL_TOKEN = re.compile(r"\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|!=|=|[^\s=!\"']+)")
GREENHOPPER = "com.pyxis.greenhopper.jira:gh-epic-"
GONE = "/rest/api/3/search/jql"  # where Jira Cloud sends callers of its removed `search`


def _field(fid: str, name: str, clauses: list[str], schema: Json | None) -> Json:
    field = {"id": fid, "key": fid, "name": name, "custom": fid.startswith("cu"), "orderable": fid != "status"}
    field |= {"navigable": True, "searchable": fid != "parent", "clauseNames": clauses}
    if schema and field["custom"]:
        schema |= {"customId": int(fid.removeprefix("customfield_"))}
    return field if schema is None else field | {"schema": schema}


SYSTEM_FIELDS = [
    _field("issuekey", "Key", ["id", "issue", "issuekey", "key"], None),  # no schema, as in Jira
    _field("summary", "Summary", ["summary"], {"type": "string", "system": "summary"}),
    _field("description", "Description", ["description"], {"type": "string", "system": "description"}),
    _field("labels", "Labels", ["labels"], {"type": "array", "items": "string", "system": "labels"}),
    _field("issuetype", "Issue Type", ["issuetype", "type"], {"type": "issuetype", "system": "issuetype"}),
    _field("project", "Project", ["project"], {"type": "project", "system": "project"}),
    _field("parent", "Parent", ["parent"], {"type": "issuelink", "system": "parent"}),
    _field("status", "Status", ["status"], {"type": "status", "system": "status"}),
]
EPIC_FIELDS = [  # Jira Software's epic fields on Server; Cloud has replaced them with `parent`
    _field(EPIC_NAME, "Epic Name", ["cf[10011]", "Epic Name"], {"type": "string", "custom": GREENHOPPER + "label"}),
    _field(EPIC_LINK, "Epic Link", ["cf[10014]", "Epic Link"], {"type": "any", "custom": GREENHOPPER + "link"}),
]


class Refused(Exception):
    """An error answer in the product's own JSON shape."""

    def __init__(self, status: int, body: Json) -> None:
        self.status, self.body = status, body


def jira_error(status: int, *messages: str, **errors: str) -> Refused:
    return Refused(status, {"errorMessages": list(messages), "errors": errors})


def wiki_error(status: int, message: str) -> Refused:
    data = {"authorized": status != 401, "valid": status != 400, "errors": [], "successful": False}
    return Refused(status, {"statusCode": status, "data": data, "message": message})


class FakeAtlassian:
    """Jira and Confluence in one app; its state is plain data that tests read (and may arrange) directly."""

    def __init__(self, *, cloud: bool = False, projects: Iterable[str] = ("CONC",), spaces: Iterable[str] = ("DOCS",)):
        self.cloud, self.down = cloud, False
        self.projects = {key: str(10000 + i) for i, key in enumerate(projects)}  # key -> id
        self.spaces = {key: 98305 + i for i, key in enumerate(spaces)}  # key -> id
        self.issues: dict[str, Json] = {}
        self.pages: dict[str, Json] = {}
        self.requests: list[tuple[str, str]] = []
        self.url = self.jira_url = self.confluence_url = ""  # set by serve_atlassian
        self._ids, self._page_ids = itertools.count(10000), itertools.count(65537)
        self._created: dict[str, str] = {}  # issue, comment or page id -> when
        self.app = FastAPI()
        self.app.middleware("http")(self._gate)
        self.app.add_exception_handler(Refused, lambda _, exc: JSONResponse(exc.body, exc.status))  # type: ignore[arg-type, attr-defined]
        self.app.include_router(self._jira_routes(), prefix="/jira/rest/api/2")
        self.app.include_router(self._confluence_routes(), prefix="/wiki/rest/api")

    def epics(self) -> list[Json]:
        return [issue for issue in self.issues.values() if issue["issuetype"] == "Epic"]

    def stories(self) -> list[Json]:
        return [issue for issue in self.issues.values() if issue["issuetype"] == "Story"]

    async def _gate(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Every request is recorded; during an outage all get 503 (no Retry-After, so neither client retries)."""
        jira = request.url.path.startswith("/jira/")
        self.requests.append((request.method, request.url.path))
        if self.down:
            return JSONResponse({"message": "Service Unavailable"}, 503)
        if _basic_auth(request) != ((JIRA_USER, JIRA_TOKEN) if jira else (CONFLUENCE_USER, CONFLUENCE_TOKEN)):
            refused = jira_error(401, "You are not authenticated.") if jira else wiki_error(401, "Unauthorized")
            return JSONResponse(refused.body, 401)
        return await call_next(request)

    # --- Jira ---

    def _jira_routes(self) -> APIRouter:
        r = APIRouter()

        @r.get("/serverInfo")
        def server_info(request: Request) -> Json:
            version = "1001.0.0-SNAPSHOT" if self.cloud else "9.12.0"
            info = {"baseUrl": _base(request, "jira"), "version": version, "serverTitle": "Jira"}
            info["versionNumbers"] = [int(n) for n in re.findall(r"\d+", version)]
            return info | {"deploymentType": "Cloud" if self.cloud else "Server", "serverTime": _now()}

        @r.get("/myself")
        def myself(request: Request) -> Json:
            return self._user(request)

        @r.get("/field")
        def fields() -> list[Json]:
            return SYSTEM_FIELDS if self.cloud else SYSTEM_FIELDS + EPIC_FIELDS

        @r.get("/project/{key}")
        def project(request: Request, key: str) -> Json:
            if (found := self._project(key)) is None:
                raise jira_error(404, f"No project could be found with key '{key}'.")
            types = [self._type_json(request, name) for name in ISSUE_TYPES]
            return self._project_json(request, found) | {"projectTypeKey": "software", "issueTypes": types}

        @r.post("/issue", status_code=201)
        async def create_issue(request: Request) -> Json:
            issue = self._validated_issue(await _json(request))
            number = 1 + sum(i["project"] == issue["project"] for i in self.issues.values())
            issue |= {"key": f"{issue['project']}-{number}", "id": str(next(self._ids))}
            self.issues[issue["key"]], self._created[issue["id"]] = issue, _now()
            return {"id": issue["id"], "key": issue["key"], "self": _jira_api(request, f"issue/{issue['id']}")}

        @r.get("/issue/{key}")
        def get_issue(request: Request, key: str) -> Json:
            return self._issue_json(request, self._issue(key), _fields(request) or ["*all"])

        @r.get("/search")
        def search(request: Request, jql: str = "", startAt: int = 0, maxResults: int = 50) -> Json:
            if self.cloud:
                raise jira_error(410, f"The requested API has been removed. Please migrate to the {GONE} API.")
            found, wanted, limit = self._jql(jql), _fields(request) or ["*navigable"], min(maxResults, 1000)
            issues = [self._issue_json(request, i, wanted) for i in found[startAt:][:limit]]
            return {"startAt": startAt, "maxResults": limit, "total": len(found), "issues": issues}

        @r.get("/search/jql")
        def enhanced_search(request: Request, jql: str = "", nextPageToken: str = "", maxResults: int = 50) -> Json:
            """Cloud's search: pages by an opaque `nextPageToken`, gives no total, and only ids unless asked."""
            if not self.cloud:
                raise jira_error(404, f"null for uri: {request.url}")
            found, wanted, limit = self._jql(jql), _fields(request) or ["id"], min(maxResults, 5000)
            start = int(base64.urlsafe_b64decode(nextPageToken).decode()) if nextPageToken else 0
            out: Json = {"issues": [self._issue_json(request, i, wanted) for i in found[start:][:limit]]}
            if start + limit < len(found):
                out["nextPageToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            return out | {"isLast": "nextPageToken" not in out}

        @r.get("/issue/{key}/comment")
        def comments(request: Request, key: str) -> Json:
            return self._comments_json(request, self._issue(key))

        @r.post("/issue/{key}/comment", status_code=201)
        async def add_comment(request: Request, key: str) -> Json:
            issue, body = self._issue(key), (await _json(request)).get("body")
            if not isinstance(body, str) or not body.strip():
                raise jira_error(400, comment="Comment body can not be empty!")
            issue["comments"].append(comment := {"id": str(next(self._ids)), "body": body})
            self._created[comment["id"]] = _now()
            return self._comment_json(request, issue, comment)

        @r.get("/issue/{key}/transitions")
        def transitions(request: Request, key: str, transitionId: str | None = None) -> Json:
            status = self._issue(key)["status"]
            available = [t for t in TRANSITIONS if t[2] == status and transitionId in (None, t[0])]
            listed = [{"id": tid, "name": name, "to": _status_json(request, to)} for tid, name, _, to in available]
            return {"expand": "transitions", "transitions": [t | {"hasScreen": False} for t in listed]}

        @r.post("/issue/{key}/transitions", status_code=204)
        async def transition(request: Request, key: str) -> Response:
            issue, wanted = self._issue(key), (await _json(request)).get("transition") or {}
            if "id" not in wanted:
                raise jira_error(400, "Missing 'transition' identifier")
            moves = [t for t in TRANSITIONS if t[0] == str(wanted["id"]) and t[2] == issue["status"]]
            if not moves:
                raise jira_error(400, f"Transition id '{wanted['id']}' is not valid for this issue.")
            issue["status"] = moves[0][3]
            return Response(status_code=204)

        return r

    def _validated_issue(self, data: Json) -> Json:
        """A new issue's fields, or Jira's 400 with its per-field messages."""
        f, errors = data.get("fields"), {}
        if not isinstance(f, dict):
            raise jira_error(400, "Can not deserialize the request: 'fields' must be an object")
        if (project := self._project(f["project"]) if "project" in f else None) is None:
            errors["project"] = "valid project is required" if "project" in f else "project is required"
        ref = f.get("issuetype") if isinstance(f.get("issuetype"), dict) else {}
        names = {name.lower(): name for name in ISSUE_TYPES} | {tid: name for name, tid in ISSUE_TYPES.items()}
        if (kind := names.get(str(ref.get("name", "")).lower()) or names.get(str(ref.get("id")))) is None:
            errors["issuetype"] = "valid issue type is required" if ref else "issue type is required"
        summary, description, labels = f.get("summary"), f.get("description"), f.get("labels", [])
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 254:
            errors["summary"] = "Summary must be less than 255 characters."
        if description is not None and not isinstance(description, str):
            errors["description"] = "Operation value must be a string"
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            errors["labels"] = "data was not an array"
        elif bad := [label for label in labels if not label or " " in label]:
            errors["labels"] = f"The label '{bad[0]}' contains spaces which is invalid."
        # the create screen: Cloud links by `parent`; Server has Epic Name on epics, Epic Link on the others
        extra = "parent" if self.cloud else EPIC_NAME if kind == "Epic" else EPIC_LINK
        for name in f.keys() - {"project", "issuetype", "summary", "description", "labels", extra}:
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        epic_name = f.get(EPIC_NAME) if extra == EPIC_NAME else None
        if extra == EPIC_NAME and (not isinstance(epic_name, str) or not epic_name.strip()):
            errors[EPIC_NAME] = "Epic Name is required."
        epic, link = None, f.get(extra) if extra != EPIC_NAME else None
        if link is not None:
            ref = link.get("key", link.get("id")) if isinstance(link, dict) else link
            target = next((i for i in self.issues.values() if str(ref).upper() in (i["key"], i["id"])), None)
            if target is None or target["issuetype"] != "Epic":
                errors[extra] = "Could not find issue by id or key." if self.cloud else f"Issue '{ref}' is not an Epic."
            elif kind == "Epic":
                errors[extra] = "Given parent work item does not belong to appropriate hierarchy."
            else:
                epic = target["key"]
        if errors:
            raise jira_error(400, **errors)
        fields = {"summary": summary, "description": description, "labels": list(labels), "status": "To Do"}
        return fields | {"project": project, "issuetype": kind, "epic": epic, "epic_name": epic_name, "comments": []}

    def _project(self, ref: Any) -> str | None:
        ref = str(ref.get("key", ref.get("id")) if isinstance(ref, dict) else ref)
        return next((key for key, pid in self.projects.items() if ref.upper() == key or ref == pid), None)

    def _issue(self, ref: str) -> Json:
        for issue in self.issues.values():
            if ref.upper() == issue["key"] or ref == issue["id"]:
                return issue
        raise jira_error(404, "Issue does not exist or you do not have permission to see it.")

    def _user(self, request: Request) -> Json:
        user = {"emailAddress": JIRA_USER, "displayName": "Conclave Bot", "active": True}
        if self.cloud:
            account = "5b10ac8d82e05b22cc7d4ef5"
            return user | {"self": _jira_api(request, f"user?accountId={account}"), "accountId": account}
        user |= {"name": JIRA_USER, "key": "JIRAUSER10000"}
        return user | {"self": _jira_api(request, f"user?username={quote_plus(JIRA_USER)}")}

    def _project_json(self, request: Request, key: str) -> Json:
        pid = self.projects[key]
        return {"self": _jira_api(request, f"project/{pid}"), "id": pid, "key": key, "name": f"Project {key}"}

    def _type_json(self, request: Request, name: str) -> Json:
        tid = ISSUE_TYPES[name]
        kind = {"self": _jira_api(request, f"issuetype/{tid}"), "id": tid, "name": name, "subtask": False}
        return kind | {"hierarchyLevel": int(name == "Epic")}

    def _issue_json(self, request: Request, issue: Json, wanted: list[str]) -> Json:
        fields = {name: issue[name] for name in ("summary", "description", "labels")}
        fields["issuetype"] = self._type_json(request, issue["issuetype"])
        fields["project"] = self._project_json(request, issue["project"])
        fields["status"] = _status_json(request, issue["status"])
        fields |= {"created": self._created[issue["id"]], "comment": self._comments_json(request, issue)}
        if not self.cloud:  # Server lists every custom field, null when unset
            fields |= {EPIC_LINK: issue["epic"], EPIC_NAME: issue["epic_name"]}
        elif issue["epic"]:
            epic = self.issues[issue["epic"]]
            brief = {"summary": epic["summary"], "status": _status_json(request, epic["status"])}
            brief["issuetype"] = self._type_json(request, "Epic")
            parent = {"id": epic["id"], "key": epic["key"], "self": _jira_api(request, f"issue/{epic['id']}")}
            fields["parent"] = parent | {"fields": brief}
        if not {"*all", "*navigable"} & set(wanted):
            fields = {name: value for name, value in fields.items() if name in wanted}
        link = _jira_api(request, f"issue/{issue['id']}")
        return {"id": issue["id"], "self": link, "key": issue["key"], "fields": fields}

    def _comments_json(self, request: Request, issue: Json) -> Json:
        listed = [self._comment_json(request, issue, comment) for comment in issue["comments"]]
        return {"startAt": 0, "maxResults": len(listed), "total": len(listed), "comments": listed}

    def _comment_json(self, request: Request, issue: Json, comment: Json) -> Json:
        when, author = self._created[comment["id"]], self._user(request)
        out = {"self": _jira_api(request, f"issue/{issue['id']}/comment/{comment['id']}"), "id": comment["id"]}
        return out | {"author": author, "body": comment["body"], "created": when, "updated": when}

    def _jql(self, jql: str) -> list[Json]:
        """The issues matching a JQL subset, by id: `field = value` clauses joined by AND; ORDER BY is ignored."""
        query = re.split(r"(?:^|\s)order\s+by\s", jql, maxsplit=1, flags=re.IGNORECASE)[0].rstrip()
        tokens, pos = [], 0
        while pos < len(query):
            if not (match := JQL_TOKEN.match(query, pos)):
                raise jira_error(400, f"Error in the JQL Query: The character at position {pos} is not expected.")
            tokens.append(match.group(1))
            pos = match.end()
        tests = []
        for i in range(0, len(tokens), 4):
            clause = tokens[i : i + 4]
            if len(clause) < 3 or clause[1] != "=" or (len(clause) == 4 and clause[3].upper() != "AND"):
                raise jira_error(400, f"Error in the JQL Query: '{' '.join(clause)}' is not `field = value [AND]`.")
            tests.append(self._clause(clause[0].strip("\"'"), clause[2]))
        if tokens and tokens[-1].upper() == "AND":
            raise jira_error(400, "Error in the JQL Query: Expecting a field name but reached the end of the query.")
        return sorted((i for i in self.issues.values() if all(t(i) for t in tests)), key=lambda i: int(i["id"]))

    def _clause(self, name: str, raw: str) -> Callable[[Json], bool]:
        field, value = name.lower(), raw[1:-1].replace('\\"', '"') if raw[:1] in "\"'" else raw
        if field == "project":
            if (key := self._project(value)) is None:
                raise jira_error(400, f"The value '{value}' does not exist for the field 'project'.")
            return lambda i: i["project"] == key
        if field in ("issuetype", "type"):
            if (kind := next((n for n, t in ISSUE_TYPES.items() if value.lower() in (n.lower(), t)), None)) is None:
                raise jira_error(400, f"The value '{value}' does not exist for the field 'issuetype'.")
            return lambda i: i["issuetype"] == kind
        if field in ("key", "issuekey", "id", "issue"):
            if not any(value.upper() in (i["key"], i["id"]) for i in self.issues.values()):
                raise jira_error(400, f"An issue with key '{value}' does not exist for field '{name}'.")
            return lambda i: value.upper() in (i["key"], i["id"])
        if field in ("labels", "status"):
            return lambda i: value in i["labels"] if field == "labels" else i["status"].lower() == value.lower()
        if field == "parent" and not self.cloud:
            return lambda i: False  # Server's `parent` is a sub-task's: an epic's stories are not its children
        if field == "parent" or (field in ("epic link", "cf[10014]") and not self.cloud):
            return lambda i: (i["epic"] or "").lower() == value.lower()
        raise jira_error(400, f"Field '{name}' does not exist or you do not have permission to view it.")

    # --- Confluence ---

    def _confluence_routes(self) -> APIRouter:
        r = APIRouter()

        @r.get("/space")
        def spaces(request: Request, start: int = 0, limit: int = 25) -> Json:
            results = [self._space_json(request, key) for key in list(self.spaces)[start:][:limit]]
            return {"results": results, "start": start, "limit": limit, "size": len(results)}

        @r.get("/space/{key}")
        def space(request: Request, key: str, expand: str = "") -> Json:
            if key not in self.spaces:
                raise wiki_error(404, f"No space with key : {key}")
            description = {"description": {"plain": {"value": "", "representation": "plain"}}}
            return self._space_json(request, key) | (description if "description" in expand else {})

        @r.get("/content")
        def find(
            request: Request,
            type: str = "page",
            spaceKey: str | None = None,
            title: str | None = None,
            expand: str | None = None,
            start: int = 0,
            limit: int = 25,
        ) -> Json:
            found = [p for p in self.pages.values() if spaceKey in (None, p["space"]) and title in (None, p["title"])]
            results = [self._content_json(request, p, expand) for p in found[start:][:limit] if type == "page"]
            links = {"self": str(request.url), "base": _base(request, "wiki"), "context": "/wiki"}
            if start + limit < len(found):
                links["next"] = "/rest/api/content?" + urlencode({**request.query_params, "start": start + limit})
            return {"results": results, "start": start, "limit": limit, "size": len(results), "_links": links}

        @r.post("/content")
        @r.post("/content/")
        async def create(request: Request) -> Json:
            data = await _json(request)
            if data.get("type") != "page":
                raise wiki_error(400, f"Unsupported content type: {data.get('type')}")
            if (space := (data.get("space") or {}).get("key")) not in self.spaces:
                raise wiki_error(404, f"No space with key : {space}")
            title, value = self._checked(data, space, None)
            page = {"id": str(next(self._page_ids)), "space": space, "title": title, "versions": [value or ""]}
            self.pages[page["id"]], self._created[page["id"]] = page, _now()
            return self._content_json(request, page, "body.storage,version,space,history")

        @r.get("/content/{page_id}")
        def get(request: Request, page_id: str, expand: str | None = None) -> Json:
            return self._content_json(request, self._page(page_id), expand)

        @r.get("/content/{page_id}/history")
        def history(request: Request, page_id: str) -> Json:
            return self._history_json(request, self._page(page_id))

        @r.put("/content/{page_id}")
        async def update(request: Request, page_id: str) -> Json:
            page, data = self._page(page_id), await _json(request)
            current = len(page["versions"])
            if (number := (data.get("version") or {}).get("number")) is None:
                raise wiki_error(400, "Must supply an incremented version when updating Content. No version supplied.")
            if number != current + 1:
                raise wiki_error(409, f"Version must be incremented on update. Current version is: {current}")
            page["title"], value = self._checked(data, page["space"], page_id)
            page["versions"].append(page["versions"][-1] if value is None else value)
            return self._content_json(request, page, "body.storage,version,space,history")

        return r

    def _checked(self, data: Json, space: str, page_id: str | None) -> tuple[str, str | None]:
        """A new or changed page's title and storage body (None: unchanged), refused as Confluence refuses them."""
        title, body = data.get("title"), data.get("body")
        if not isinstance(title, str) or not title.strip():
            raise wiki_error(400, "A title is required")
        if any(p["space"] == space and p["title"] == title and p["id"] != page_id for p in self.pages.values()):
            why = f"A page already exists with the title {title} in the space with key {space}"
            raise wiki_error(400, f"A page with this title already exists: {why}")
        if body is None:
            return title, None
        storage = body.get("storage") if isinstance(body, dict) else None
        if not isinstance(storage, dict) or not isinstance(storage.get("value"), str):
            raise wiki_error(400, "This stand-in only takes bodies in the storage representation")
        # Storage format is XHTML: what is not well-formed XML is refused, HTML-only entities (&nbsp;) included.
        namespaces = 'xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier"'
        try:
            ET.fromstring(f"<root {namespaces}>{storage['value']}</root>")
        except ET.ParseError as exc:
            raise wiki_error(400, f"Error parsing xhtml: {exc}") from exc
        return title, storage["value"]

    def _page(self, page_id: str) -> Json:
        if page_id not in self.pages:
            raise wiki_error(404, f"No content found with id : ContentId{{id={page_id}}}")
        return self.pages[page_id]

    def _space_json(self, request: Request, key: str) -> Json:
        links = {"webui": f"/spaces/{key}" if self.cloud else f"/display/{key}"}
        links["self"] = _wiki_api(request, f"space/{key}")
        return {"id": self.spaces[key], "key": key, "name": f"Space {key}", "type": "global", "_links": links}

    def _version_json(self, page: Json) -> Json:
        by = {"type": "known", "displayName": "Conclave Bot", "email": CONFLUENCE_USER}
        return {"by": by, "when": self._created[page["id"]], "number": len(page["versions"]), "minorEdit": False}

    def _history_json(self, request: Request, page: Json) -> Json:
        version, link = self._version_json(page), {"self": _wiki_api(request, f"content/{page['id']}/history")}
        return {"latest": True, "createdBy": version["by"], "lastUpdated": version, "_links": link}

    def _content_json(self, request: Request, page: Json, expand: str | None) -> Json:
        """Content as Confluence gives it: `history,space,version` expanded unless `expand` names others."""
        pid, key = page["id"], page["space"]
        webui = f"/spaces/{key}/pages/{pid}/{quote_plus(page['title'])}"  # Cloud's; Server's is by id:
        webui = webui if self.cloud else f"/pages/viewpage.action?pageId={pid}"
        links = {"webui": webui, "base": _base(request, "wiki"), "context": "/wiki"}
        links["self"] = _wiki_api(request, f"content/{pid}")
        out: Json = {"id": pid, "type": "page", "status": "current", "title": page["title"], "_links": links}
        parts = set((expand if expand is not None else "history,space,version").split(","))
        if "space" in parts:
            out["space"] = self._space_json(request, key)
        if "version" in parts:
            out["version"] = self._version_json(page)
        if "history" in parts:
            out["history"] = self._history_json(request, page)
        if "body.storage" in parts:
            out["body"] = {"storage": {"value": page["versions"][-1], "representation": "storage"}}
        return out


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _base(request: Request, prefix: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/{prefix}"


def _jira_api(request: Request, path: str) -> str:
    return f"{_base(request, 'jira')}/rest/api/2/{path}"


def _wiki_api(request: Request, path: str) -> str:
    return f"{_base(request, 'wiki')}/rest/api/{path}"


def _basic_auth(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return (user, password) if scheme.lower() == "basic" else None


async def _json(request: Request) -> Json:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        message = "Unexpected character: the request body is not a JSON object"
        raise jira_error(400, message) if request.url.path.startswith("/jira/") else wiki_error(400, message)
    return data


def _fields(request: Request) -> list[str]:
    """The `fields` asked for: the parameter may repeat (as the jira client sends a list) and hold commas."""
    return [name for value in request.query_params.getlist("fields") for name in value.split(",") if name]


def _status_json(request: Request, name: str) -> Json:
    sid, key = STATUSES[name]
    cid, category = CATEGORIES[key]
    category_json = {"self": _jira_api(request, f"statuscategory/{cid}"), "id": cid, "key": key, "name": category}
    return {"self": _jira_api(request, f"status/{sid}"), "id": sid, "name": name, "statusCategory": category_json}


@contextmanager
def serve_atlassian(**kwargs: Any) -> Iterator[FakeAtlassian]:
    """A `FakeAtlassian` served on a free local port, with its `url`, `jira_url` and `confluence_url` set."""
    fake = FakeAtlassian(**kwargs)
    with LiveServer(fake.app) as server:
        fake.url, fake.jira_url, fake.confluence_url = server.url, f"{server.url}/jira", f"{server.url}/wiki"
        yield fake
