"""Walking a session's pages (the steps, the review, the answer sheet), for whoever walks it:
the family on their own phone (views/family.py) or a helper the family let in
(views/assist.py).

One set of views and templates serves both, so a helper sees and checks exactly what the
family does. What differs is held by a Walker: the pages' addresses, whom the answers are
entered by, whether it may press the final confirmation, and what is recorded of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import abort, redirect, render_template, request, url_for

from .. import accounts, display, engine, forms, get_store, i18n, security, store
from ..flow.fieldtypes import Invalid
from ..flow.model import Flow


@dataclass
class Walker:
    blueprint: str                    # whose pages: "family" or "assist"
    args: dict                        # the URL values that name the session
    own: bool = True                  # the family's own (not a helper walking them)
    # Moves where the family carries on: the family, or a helper walking a walkthrough they
    # started for the family (not a helper looking round the family's own).
    sets_place: bool = True
    entered_by: str = "family"        # stored with every answer saved
    device: str | None = None         # ditto: a device's own saves never conflict
    may_confirm: bool = True          # may press "Confirm answers"
    # A helper's pages: whom they help, the family's language, notes (see views/assist.py).
    helping: dict | None = None
    # What a helper saw or changed goes to the audit log; the family's own use does not.
    record: Callable[[str, dict], None] | None = None
    # Pages a blueprint names differently (a helper's "start" and "save" are the family's
    # overview in their console).
    aliases: dict = field(default_factory=dict)

    def url(self, name: str, **values) -> str:
        return url_for(f"{self.blueprint}.{self.aliases.get(name, name)}", **self.args,
                       **values)

    def step_url(self, step_id: str, back_to_review: bool = False) -> str:
        return self.url("step", step_id=step_id,
                        **({"return": "review"} if back_to_review else {}))

    def note(self, action: str, **detail) -> None:
        if self.record is not None:
            self.record(action, detail)


def family(flow: Flow, device: str | None = None) -> Walker:
    """The family's own pages of this flow."""
    return Walker("family", {"flow_id": flow.id}, device=device)


def for_helper(blueprint: str, args: dict, session_id: int, user_id: int, grant: dict,
               device: str, **more) -> Walker:
    """A family's pages walked by their helper through `grant`: answers entered as the
    helper's, everything seen or changed in the audit log under the helper's name; it
    confirms only with the guardian present, and moves where the family carries on only in a
    walkthrough the helper started for them."""
    return Walker(blueprint, args, own=False, entered_by=accounts.author_of(user_id),
                  device=device, may_confirm=bool(grant["guardian_present"]),
                  sets_place=grant["kind"] == "started",
                  record=lambda action, detail: get_store().audit(
                      accounts.actor_of(user_id), action, session_id, detail), **more)


# ---------------------------------------------------------------- steps


def step(w: Walker, sess: dict, flow: Flow, answers: dict, j: engine.Journey, step_id: str,
         **extra):
    """A step page, and saving it. `extra` goes to the template (a helper's notes)."""
    current = flow.step(step_id)
    if current is None:
        abort(404)
    back_to_review = request.args.get("return") == "review"
    if not j.is_visible(step_id):
        # Not a step for these answers: go to the first one that still needs an answer, or on.
        target = engine.first_unfinished(j, answers) or engine.next_step(j, step_id)
        return redirect(w.step_url(target.id) if target else w.url("review"), 303)
    revision = sess["revision"]
    if request.method == "POST":
        form = forms.step_form(flow, j, current, answers, formdata=request.form)
        switch = request.form.get("switch_lang")
        if switch in i18n.LANGUAGES:
            # The language menu of a step page submits the page: what was typed or chosen
            # and not yet sent comes back in the other language, neither saved nor judged.
            get_store().keep_draft(sess["id"], step_id, form.typed(), checked=False)
            return go(i18n.url_in(switch, here()))
        valid = form.validate()
        if request.form.get("then") == "save":
            return go(_save_for_later(w, sess, step_id, form, flow.place(step_id)))
        if not valid:
            # Post/redirect/get even for mistakes: the phone's Back button then never lands on
            # "Confirm form resubmission". The typed values wait in the database, not in a
            # cookie: they may hold a child's name and ID number.
            get_store().keep_draft(sess["id"], step_id, form.typed())
            # Which questions families find hard (the studio's dashboard): counts only.
            get_store().count_errors(flow.id, flow.version, step_id,
                                     [f.id for f in current.fields if f.id in form.errors],
                                     sess["locale"], sess.get("device_kind"))
            return go(here())
        try:
            # The device is recorded with the answers: a later save of this same phone (its
            # offline queue, with an older revision) is then no conflict with this one.
            get_store().save_answers(
                sess["id"], form.data, entered_by=w.entered_by,
                seen_revision=security.whole_number(request.form.get("revision")),
                device=w.device, reached=flow.place(step_id))
        except store.Conflict as conflict:
            # Someone else (the family, or their helper) changed these answers while this
            # page was open: show their values and say so; pressing Continue again saves
            # what is then on the page.
            for field_id, value in conflict.changed.items():
                form.show_saved(field_id, value, Invalid("changed_elsewhere"))
            revision = conflict.current
            w.note("view", step=step_id)  # the page shows the answers saved meanwhile
        else:
            w.note("change", step=step_id, fields=sorted(form.data))
            answers = {**answers, **form.data}
            before, j = j, engine.journey(flow, answers)
            return go(_after_save(w, before, j, answers, step_id, back_to_review))
    else:
        form = forms.step_form(flow, j, current, answers)
        draft = get_store().take_draft(sess["id"], step_id)
        if draft is not None:
            form.show_typed(*draft)
        # Where the family is (their "carry on"): a helper looking round does not move it.
        if w.sets_place and sess["last_step"] != step_id:
            get_store().touch(sess["id"], last_step=step_id)
        w.note("view", step=step_id)
    number, total = engine.progress(j, step_id)
    previous = engine.previous_step(j, step_id)
    fields = form.visible()
    return render_template(
        "family/step.html", flow=flow, step=current, fields=fields, number=number,
        total=total, walk=w,
        back_url=(w.url("review") if back_to_review else
                  w.step_url(previous.id) if previous else w.url("start")),
        summary=form.summary(), revision=revision, action=here(), lang_form="step-form",
        family_words=_family_words(w, flow, j, current), **extra,
    ), (422 if form.errors and request.method == "POST" else 200)


def _family_words(w: Walker, flow: Flow, j: engine.Journey, current) -> dict | None:
    """On a helper's page, when asked: the step in the family's language too."""
    helping = w.helping
    if not helping or not helping.get("both") or helping["family_lang"] == i18n.current():
        return None
    return display.in_language(flow, j, current, helping["family_lang"])


def _save_for_later(w: Walker, sess: dict, step_id: str, form: forms.StepForm,
                    reached: int | None) -> str:
    """"Save and continue later" from a step: save the page's valid answers, keep what was
    typed with a mistake for when the page is opened again; returns the save page's URL."""
    if form.data:
        try:
            get_store().save_answers(sess["id"], form.data, entered_by=w.entered_by,
                                     device=w.device, reached=reached)
            w.note("change", step=step_id, fields=sorted(form.data))
        except store.Conflict:  # another phone saved meanwhile: that page will show it
            pass
    # Questions simply not answered yet need no draft: only real mistakes are kept.
    mistakes = form.has_mistakes()
    if mistakes:
        get_store().keep_draft(sess["id"], step_id, form.typed())
    if w.sets_place:
        get_store().touch(sess["id"], last_step=step_id)
    return w.url("save", **({"unsaved": "1"} if mistakes else {}))


def go(target: str):
    """Where a step's form leads: a 303 redirect, or for static/js/step.js (which sends the
    form itself) a 204 naming the address, so that the script can *replace* the page when it
    is the same one shown again with its mistakes: the phone's Back button then goes to the
    page before, not to this page as it was before the mistake."""
    if request.headers.get("X-Wizard-Inline") == "1":
        return "", 204, {"X-Wizard-Next": target}
    return redirect(target, 303)


def here() -> str:
    """This page's address with its query (request.full_path adds a "?" even without one)."""
    return request.full_path.removesuffix("?")


def _after_save(w: Walker, before: engine.Journey, j: engine.Journey, answers: dict,
                step_id: str, back_to_review: bool) -> str:
    if back_to_review:
        target = engine.after_change(before, j, answers, step_id)
        return w.step_url(target.id, back_to_review=True) if target else w.url("review")
    following = engine.next_step(j, step_id)
    return w.step_url(following.id) if following else w.url("review")


# ---------------------------------------------------------------- review and answer sheet


def review(w: Walker, sess: dict, flow: Flow, answers: dict, j: engine.Journey):
    problems = engine.problems(j, answers)
    if request.method == "POST" and w.may_confirm and not problems:
        get_store().set_status(sess["id"], "completed")
        w.note("confirm")
        return redirect(w.url("done"), 303)
    w.note("view", page="review")  # a refused confirmation shows every answer too
    issues = [{"url": w.step_url(p.step.id, back_to_review=True),
               "label": i18n.flow_text(p.field.label or p.step.title, flow.default_language),
               "message": display.error_text(p.field, p.error, flow)} for p in problems]
    last = j.steps[-1] if j.steps else None
    posted = request.method == "POST"
    return render_template(
        "family/review.html", flow=flow, walk=w,
        groups=display.review_groups(flow, j, answers, get_store().provenance(sess["id"])),
        moved=display.checks_after_move(flow, j, get_store().pending_checks(sess["id"])),
        back_url=w.step_url(last.id) if last else w.url("start"),
        problems=issues, show_problems=posted), \
        (403 if posted and not w.may_confirm else 422 if posted else 200)


def done(w: Walker, sess: dict, flow: Flow, answers: dict, j: engine.Journey, **extra):
    if engine.problems(j, answers):
        return redirect(w.url("review"), 303)
    w.note("view", page="answer sheet")
    return render_template(
        "family/done.html", flow=flow, walk=w,
        **display.answer_sheet(flow, j, answers, get_store().provenance(sess["id"])),
        days_left=engine.days_left(flow), **extra)
