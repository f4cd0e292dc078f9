"""/models (admin, part 2 of the console): the model versions with their scores per target
against the arrival mailbox, the reliability table, the corrections since the last training;
train now, make a version active through the promotion gate, roll back. Audited."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

import rules
from bot.triage.training import model_versions, promote_model, retrain, rollback_model
from bot.web.access import Person
from bot.web.http import guarded, page, state
from classifiers import ModelError


@guarded("models")
async def models(request: Request, person: Person) -> Response:
    return _models_page(request, person)


def _models_page(request: Request, person: Person, *, message: str = "", error: str = "", status: int = 200):
    console = state(request)
    rows = model_versions(console.settings, console.engine)
    return page(request, "models.html.j2", person=person, rows=rows, message=message, error=error, status=status,
                current=next((r for r in rows if r["active"]), None))


@guarded("models")
async def model_action(request: Request, person: Person) -> Response:
    console = state(request)
    action = request.path_params["action"]
    form = await request.form()
    try:
        if action == "train":
            ruleset = rules.load_ruleset(console.settings.routing.rules)
            result = await run_in_threadpool(retrain, console.settings, ruleset=ruleset, engine=console.engine,
                                            actor=person.actor)
            said = result["message"]
        elif action == "rollback":
            said = rollback_model(console.settings, console.engine, actor=person.actor)
        elif action == "promote":
            said = promote_model(console.settings, console.engine, str(form.get("version") or ""), actor=person.actor)
        else:
            return _models_page(request, person, error="onbekende handeling", status=404)
    except (ModelError, rules.RulesError) as exc:
        return _models_page(request, person, error=str(exc), status=422)
    return _models_page(request, person, message=said)
