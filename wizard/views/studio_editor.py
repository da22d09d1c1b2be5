"""The studio's form editor: a draft's steps, fields, choices and checklist items changed
through forms, with no YAML to write (flow/editing.py does the edits, drafting.py saves them).

Four pages: the outline (every step), the walkthrough itself (title, dates, languages), a
step, a field. Each page posts to itself; the button
pressed (`do`) says which of its forms was sent. Every post carries the draft's revision, so
two staff never overwrite each other silently (409 and the clash notice, what was typed kept);
an edit that editing.py refuses is shown next to its input (422, nothing saved); a saved edit
redirects back (303) and the loader's problems, with key paths, head the page again.

Texts are edited in one language at a time, chosen with `in=` (`lang=` would change the staff
member's own interface language); ids, numbers and official terms belong to every language.
"""

from __future__ import annotations

from typing import Callable

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from .. import drafting, editor_forms, i18n, store, studio_forms
from ..drafting import studio_only
from ..editor_forms import (
    AddChoiceForm,
    AddFieldForm,
    AddItemForm,
    AddLanguageForm,
    AddStepForm,
    FieldForm,
    FlowForm,
    StepForm,
    place,
)
from ..flow import editing

bp = drafting.blueprint("studio_editor")

MOVES = {"up": -1, "down": 1}
# Hint and help of a choice or a paper: sent by its row form; absent keys are left alone.
OPTION_TEXTS = ("hint", "help")

class Page:
    """One request to an editor page: the draft, its document, the language of its texts,
    and how a post went (errors for the summary, the clash)."""

    def __init__(self, flow_id: str):
        self.draft = drafting.get_or_404(flow_id)
        self.flow_id = flow_id
        self.clash = None
        self.errors: list[dict] = []  # refusals of a row's buttons, for the error summary
        try:
            self.doc = editing.load(self.draft.source)
        except editing.EditError:
            self.doc = None  # only the YAML editor can mend it; the page says so
        languages = list(self.doc.get("languages") or []) if self.doc is not None else []
        self.languages = [code for code in languages if isinstance(code, str)]
        asked = request.args.get("in")
        self.lang = asked if asked in self.languages else (
            self.languages[0] if self.languages else "zh_Hans")
        self.outline = editing.outline(self.doc, self.lang) if self.doc is not None else []

    def save(self, change: Callable, refused: Callable[[str], None]) -> bool:
        """Apply and save one change; False (nothing saved) when refused or clashing."""
        try:
            drafting.edit(self.draft, studio_forms.revision_of(request.form), change)
        except editing.EditError as exc:
            refused(str(exc))
            return False
        except store.DraftClash as exc:
            # {} (not None) when the draft went meanwhile: clash.html says so.
            self.clash = exc.current if exc.current is not None else {}
            return False
        return True

    def refuse_row(self, anchor: str) -> Callable[[str], None]:
        return lambda message: self.errors.append({"href": f"#{anchor}", "text": message})

    def back(self, endpoint: str, note: str | None = None, **ids) -> Response:
        flash(note or gettext("Saved."))
        return redirect(url_for(endpoint, flow_id=self.flow_id, **ids, **{"in": self.lang}),
                        303)

    def render(self, template: str, forms: list, **context):
        summary = [item for form in forms for item in form.summary()] + self.errors
        status = 409 if self.clash is not None else 422 if summary else 200
        # After a clash the page keeps the revision it was opened with: saving again must not
        # silently overwrite the newer draft (the notice says how to open it).
        revision = request.form.get("revision", "") if self.clash is not None \
            else self.draft.revision
        return render_template(
            template, page=self, flow_id=self.flow_id, draft=self.draft,
            checked=self.draft.checked, clash=self.clash, summary=summary, lang=self.lang,
            revision=revision, kinds=editor_forms.KIND_LABELS, types=editor_forms.TYPE_LABELS,
            **context), status


def _posted(do: str, *names: str) -> dict:
    """formdata for the form that was posted; None for the others (see editor_forms)."""
    return request.form if request.method == "POST" and do in names else None


def _button() -> str:
    return request.form.get("do", "") if request.method == "POST" else ""


# ---------------------------------------------------------------- the outline


@bp.route("/<flow_id>/draft/", methods=["GET", "POST"])
@studio_only
def outline(flow_id: str):
    page = Page(flow_id)
    do = _button()
    add = AddStepForm(_posted(do, "add_step"), data={"new_step_kind": "question"})
    if page.doc is not None and request.method == "POST":
        step = request.form.get("step", "")
        if do == "add_step":
            new_id = (add.new_step_id.data or "").strip()
            if page.save(lambda doc: editing.add_step(
                    doc, new_id, add.new_step_kind.data or "", add.new_step_title.data or "",
                    page.lang), lambda m: place(add, m, add.RULES)):
                return page.back("studio_editor.edit_step", step_id=new_id,
                                 note=gettext("Added step %(id)s.", id=new_id))
        elif do in MOVES:
            if page.save(lambda doc: editing.move_step(doc, step, MOVES[do]),
                         page.refuse_row("steps")):
                return page.back("studio_editor.outline")
        elif do == "remove":
            if page.save(lambda doc: editing.remove_step(doc, step), page.refuse_row("steps")):
                return page.back("studio_editor.outline", note=gettext(
                    "Removed step %(id)s.", id=step))
        else:
            abort(400)
    return page.render("studio/outline.html", [add], add=add)


# ---------------------------------------------------------------- the walkthrough itself


def _language_name(code: str) -> str:
    return i18n.LANGUAGES[code][0] if code in i18n.LANGUAGES else code


@bp.route("/<flow_id>/draft/about", methods=["GET", "POST"])
@studio_only
def about(flow_id: str):
    """Title, summary, introduction, dates, time zone, resume fact; and the flow's languages
    (added and removed here: set_flow keeps refusing `languages`)."""
    page = Page(flow_id)
    if page.doc is None:
        return redirect(url_for("studio_editor.outline", flow_id=flow_id), 303)
    values = editing.flow_values(page.doc, page.lang)
    do = _button()
    form = FlowForm(_posted(do, "save"), data=editor_forms.flow_data(values))
    form.offer(page.outline, values["resume_fact"])
    add = AddLanguageForm(_posted(do, "add_language"))
    add.offer(i18n.LANGUAGES, page.languages)
    if request.method == "POST":
        if do == "save":
            new = form.values()
            if page.save(lambda doc: editing.set_flow(doc, new, page.lang),
                         lambda m: place(form, m, form.RULES)):
                return page.back("studio_editor.about")
        elif do == "add_language":
            code = (add.new_language.data or "").strip()
            if page.save(lambda doc: editing.add_language(doc, code, tuple(i18n.LANGUAGES)),
                         lambda m: place(add, m, add.RULES)):
                return page.back("studio_editor.about", note=gettext(
                    "Added %(language)s. Its texts are missing until they are translated.",
                    language=_language_name(code)))
        elif do == "remove_language":
            code = request.form.get("language", "")
            if page.save(lambda doc: editing.remove_language(doc, code),
                         page.refuse_row("languages")):
                if page.lang == code:
                    page.lang = page.languages[0]
                return page.back("studio_editor.about", note=gettext(
                    "Removed %(language)s from the flow's languages. Its texts are still in "
                    "the file.", language=_language_name(code)))
        else:
            abort(400)
    return page.render("studio/edit_flow.html", [form, add], form=form, add=add,
                       default=page.languages[0] if page.languages else None,
                       others=page.languages[1:], posted_language=(
                           request.form.get("language") if do == "remove_language" else None))


# ---------------------------------------------------------------- a step


@bp.route("/<flow_id>/draft/steps/<step_id>", methods=["GET", "POST"])
@studio_only
def edit_step(flow_id: str, step_id: str):
    page = Page(flow_id)
    if page.doc is None:
        return redirect(url_for("studio_editor.outline", flow_id=flow_id), 303)
    try:
        values = editing.step_values(page.doc, step_id, page.lang)
    except editing.EditError:
        abort(404)
    card = next(s for s in page.outline if s["id"] == step_id)
    answers = editor_forms.answers_before(page.outline, step_id)
    do = _button()
    form = StepForm(_posted(do, "save"), data=editor_forms.step_data(values, answers))
    form.offer(answers)
    add_field = AddFieldForm(_posted(do, "add_field"), data={"new_field_type": "text"})
    add_item = AddItemForm(_posted(do, "add_item"))
    field = request.form.get("field", "")
    item = request.form.get("item", "")
    if request.method == "POST":
        here = {"step_id": step_id}
        if do == "save":
            try:
                new = form.values(answers)
            except editing.EditError as exc:
                form.place_condition(str(exc))
            else:
                if page.save(lambda doc: editing.set_step(doc, step_id, new, page.lang),
                             lambda m: place(form, m, form.RULES)):
                    return page.back("studio_editor.edit_step", step_id=new["id"] or step_id)
        elif do == "add_field":
            new_id = (add_field.new_field_id.data or "").strip()
            if page.save(lambda doc: editing.add_field(
                    doc, step_id, new_id, add_field.new_field_type.data or "",
                    add_field.new_field_label.data or "", page.lang),
                    lambda m: place(add_field, m, add_field.RULES)):
                return page.back("studio_editor.edit_field", step_id=step_id, field_id=new_id,
                                 note=gettext("Added question %(id)s.", id=new_id))
        elif do in ("field_up", "field_down"):
            if page.save(lambda doc: editing.move_field(doc, step_id, field,
                                                        MOVES[do[len("field_"):]]),
                         page.refuse_row("fields")):
                return page.back("studio_editor.edit_step", **here)
        elif do == "field_remove":
            if page.save(lambda doc: editing.remove_field(doc, step_id, field),
                         page.refuse_row("fields")):
                return page.back("studio_editor.edit_step", **here, note=gettext(
                    "Removed question %(id)s.", id=field))
        elif do == "add_item":
            new_id = (add_item.new_item_id.data or "").strip()
            if page.save(lambda doc: editing.add_item(
                    doc, step_id, new_id, add_item.new_item_label.data or "", page.lang,
                    add_item.new_item_official.data or ""),
                    lambda m: place(add_item, m, add_item.RULES)):
                return page.back("studio_editor.edit_step", **here)
        elif do == "item_save":
            changed = {"id": request.form.get("item_id", ""),
                       "label": request.form.get("item_label", ""),
                       "official": request.form.get("item_official", ""),
                       "show_if": request.form.get("item_show_if", "")}
            changed.update({k: request.form[f"item_{k}"] for k in OPTION_TEXTS
                            if f"item_{k}" in request.form})
            if page.save(lambda doc: editing.set_item(doc, step_id, item, changed, page.lang),
                         page.refuse_row(f"item-{item}")):
                return page.back("studio_editor.edit_step", **here)
        elif do in ("item_up", "item_down"):
            if page.save(lambda doc: editing.move_item(doc, step_id, item,
                                                       MOVES[do[len("item_"):]]),
                         page.refuse_row("items")):
                return page.back("studio_editor.edit_step", **here)
        elif do == "item_remove":
            if page.save(lambda doc: editing.remove_item(doc, step_id, item),
                         page.refuse_row("items")):
                return page.back("studio_editor.edit_step", **here)
        else:
            abort(400)
    items = [editing.item_values(page.doc, step_id, i, page.lang) for i in values["items"]]
    return page.render("studio/edit_step.html", [form, add_field, add_item], step=card,
                       has_end=editor_forms.has_end(),
                       form=form, add_field=add_field, add_item=add_item, items=items,
                       posted_item=item if do == "item_save" else None)


# ---------------------------------------------------------------- a field


@bp.route("/<flow_id>/draft/steps/<step_id>/fields/<field_id>", methods=["GET", "POST"])
@studio_only
def edit_field(flow_id: str, step_id: str, field_id: str):
    page = Page(flow_id)
    if page.doc is None:
        return redirect(url_for("studio_editor.outline", flow_id=flow_id), 303)
    try:
        values = editing.field_values(page.doc, step_id, field_id, page.lang)
    except editing.EditError:
        abort(404)
    answers = editor_forms.answers_before(page.outline, step_id, field_id)
    do = _button()
    form = FieldForm(_posted(do, "save"), data=editor_forms.field_data(values, answers))
    form.offer(answers)
    add = AddChoiceForm(_posted(do, "add_choice"))
    choice = request.form.get("choice", "")
    if request.method == "POST":
        here = {"step_id": step_id, "field_id": field_id}
        if do == "save":
            try:
                new = form.values(values["type"], answers)
            except editing.EditError as exc:
                form.place_condition(str(exc))
            else:
                dropped: list[str] = []

                def change(doc):
                    dropped.extend(editing.set_field(doc, step_id, field_id, new, page.lang))

                if page.save(change, form.place_error):
                    note = gettext("Saved.")
                    if dropped:
                        note += " " + gettext("Removed what a %(type)s question cannot have: "
                                              "%(keys)s.", type=new["type"],
                                              keys=", ".join(dropped))
                    return page.back("studio_editor.edit_field", step_id=step_id,
                                     field_id=new["id"] or field_id, note=note)
        elif do == "add_choice":
            if page.save(lambda doc: editing.add_choice(
                    doc, step_id, field_id, (add.new_choice_value.data or "").strip(),
                    add.new_choice_label.data or "", page.lang,
                    add.new_choice_official.data or ""), lambda m: place(add, m, add.RULES)):
                return page.back("studio_editor.edit_field", **here)
        elif do == "choice_save":
            changed = {"value": request.form.get("choice_value", ""),
                       "label": request.form.get("choice_label", ""),
                       "official": request.form.get("choice_official", "")}
            changed.update({k: request.form[f"choice_{k}"] for k in OPTION_TEXTS
                            if f"choice_{k}" in request.form})
            if page.save(lambda doc: editing.set_choice(doc, step_id, field_id, choice, changed,
                                                        page.lang),
                         page.refuse_row(f"choice-{choice}")):
                return page.back("studio_editor.edit_field", **here)
        elif do in ("choice_up", "choice_down"):
            if page.save(lambda doc: editing.move_choice(doc, step_id, field_id, choice,
                                                         MOVES[do[len("choice_"):]]),
                         page.refuse_row("choices")):
                return page.back("studio_editor.edit_field", **here)
        elif do == "choice_remove":
            if page.save(lambda doc: editing.remove_choice(doc, step_id, field_id, choice),
                         page.refuse_row("choices")):
                return page.back("studio_editor.edit_field", **here)
        else:
            abort(400)
    choices = [editing.choice_values(page.doc, step_id, field_id, c, page.lang)
               for c in values["choices"]]
    return page.render("studio/edit_field.html", [form, add], step_id=step_id,
                       field_id=field_id, field=values, form=form, add=add, choices=choices,
                       rules=FieldForm.rules_for(values["type"]),
                       has_choices=values["type"] in ("choice", "multichoice"),
                       posted_choice=choice if do == "choice_save" else None)
