"""Staff's studio: the flows and their versions, a flow's draft as YAML, files in and out,
preview and publishing (with moving open sessions forward).

The form editor (studio_editor.py), the translations table (studio_text.py) and the
dashboard and exports (studio_numbers.py) are blueprints of their own under /studio too;
all of them open and save a draft through drafting.py.
"""

from __future__ import annotations

import json

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from markupsafe import Markup

from .. import (
    catalog,
    display,
    drafting,
    engine,
    forms,
    get_store,
    i18n,
    publishing,
    security,
    store,
    studio_forms,
)
from ..drafting import studio_only
from ..flow import diff, editing

bp = drafting.blueprint("studio")

FLOW_ID = studio_forms.FLOW_ID
# A flow file is at most the loader's limit; an upload past it is refused before reading.
UPLOAD_MAX = 512 * 1024



def _flow_exists(flow_id: str) -> None:
    if not FLOW_ID.fullmatch(flow_id) or not any(
            row["id"] == flow_id for row in get_store().studio_flows()):
        abort(404)


# ---------------------------------------------------------------- flows


@bp.route("/", methods=["GET", "POST"])
@studio_only
def flows():
    form = studio_forms.NewFlowForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            source = editing.starter(form.flow_id.data, form.title.data, form.language.data)
            drafting.save(form.flow_id.data, source, None)
        except editing.EditError as exc:  # what the form's own checks let through
            form.flow_id.errors.append(str(exc))
        except store.DraftClash:
            form.flow_id.errors.append(gettext("A flow with this id exists already"))
        else:
            return redirect(url_for("studio_editor.outline", flow_id=form.flow_id.data), 303)
    rows = get_store().studio_flows()
    return render_template("studio/flows.html", flows=rows, form=form,
                           summary=form.summary()), 422 if form.has_errors() else 200


@bp.get("/<flow_id>/")
@studio_only
def flow(flow_id: str):
    _flow_exists(flow_id)
    return _flow_page(flow_id, studio_forms.UploadForm())


def _flow_page(flow_id: str, upload, problems: list[str] | None = None):
    s = get_store()
    draft = drafting.get(flow_id)
    versions = [{**v, "when": i18n.format_moment(v["published_at"]),
                 "said": publishing.sentences(json.loads(v["changes"] or "[]"))}
                for v in s.versions(flow_id)]
    return render_template(
        "studio/flow.html", flow_id=flow_id, versions=versions, draft=draft,
        draft_when=i18n.format_moment(draft.updated_at) if draft else None,
        settings=s.flow_settings(flow_id), upload=upload, upload_problems=problems), \
        422 if problems else 200


@bp.get("/<flow_id>/compare")
@studio_only
def compare(flow_id: str):
    """What changed between any two published versions, in sentences (GET form: works
    without JavaScript)."""
    _flow_exists(flow_id)
    s = get_store()
    numbers = [v["version"] for v in s.versions(flow_id)]
    if not numbers:
        abort(404)
    older = security.whole_number(request.args.get("from"))
    newer = security.whole_number(request.args.get("to"))
    newer = newer if newer in numbers else numbers[0]
    older = older if older in numbers else (numbers[1] if len(numbers) > 1 else numbers[0])
    said = publishing.sentences(diff.diff(catalog.get(s, flow_id, older),
                                          catalog.get(s, flow_id, newer)))
    return render_template("studio/compare.html", flow_id=flow_id, numbers=numbers,
                           older=older, newer=newer, said=said)


@bp.post("/<flow_id>/draft/start")
@studio_only
def start_draft(flow_id: str):
    _flow_exists(flow_id)
    try:
        drafting.start_from_published(flow_id)
    except store.DraftClash:
        pass  # someone started one meanwhile: open theirs
    return redirect(url_for("studio_editor.outline", flow_id=flow_id), 303)


@bp.post("/<flow_id>/draft/discard")
@studio_only
def discard(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    seen = studio_forms.revision_of(request.form)
    if seen is None or not get_store().drop_draft(flow_id, seen):
        flash(gettext("The draft was changed by someone else since you opened it: it was "
                      "not thrown away. Look at it again first."))
        return redirect(url_for("studio.flow", flow_id=flow_id), 303)
    get_store().audit(drafting.actor(), "draft-discarded", None,
                      {"flow": flow_id, "revision": draft.revision})
    return redirect(url_for("studio.flow", flow_id=flow_id), 303)


# ---------------------------------------------------------------- the YAML editor


@bp.route("/<flow_id>/draft/yaml", methods=["GET", "POST"])
@studio_only
def yaml_editor(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    form = studio_forms.YamlForm(request.form if request.method == "POST" else None,
                                 source=draft.source, revision=draft.revision)
    clash = None
    checked = draft.checked
    if request.method == "POST" and form.validate():
        text = form.source.data
        checked = drafting.check(text, flow_id)
        unreadable = drafting.unreadable(checked)
        try:
            if unreadable:
                form.source.errors.append(gettext(
                    "Not saved: the text cannot be read as a flow (%(problem)s)",
                    problem=unreadable[0].message))
            else:
                drafting.save(flow_id, text, form.revision.data)
        except store.DraftClash as exc:
            # Kept on the page, not saved: they compare with the newer draft and choose.
            clash = exc.current or {}
        else:
            if not unreadable:
                return redirect(url_for("studio.yaml_editor", flow_id=flow_id, saved=1), 303)
    return render_template(
        "studio/yaml.html", flow_id=flow_id, draft=draft, form=form, checked=checked,
        clash=clash, saved=request.args.get("saved") == "1",
        summary=form.summary()), 409 if clash is not None else 422 if form.has_errors() else 200


@bp.post("/check")
@studio_only
def check():
    """The YAML editor's check as you type (static/js/studio.js): the same loader's problems
    for a text that is not saved. JSON: {"problems": [{path, line, message, severity}]}."""
    text = request.form.get("source", "")
    flow_id = request.form.get("flow_id", "")
    if not FLOW_ID.fullmatch(flow_id):
        abort(400)
    result = drafting.check(text, flow_id)
    return jsonify(problems=[{"path": p.path, "line": p.line, "message": p.message,
                              "severity": p.severity} for p in result.problems])


# ---------------------------------------------------------------- files in and out


def _download(text: str, name: str) -> Response:
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/<flow_id>/draft.yaml")
@studio_only
def download_draft(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    return _download(draft.source, f"{flow_id}.yaml")


@bp.get("/<flow_id>/v/<id:version>.yaml")
@studio_only
def download_version(flow_id: str, version: int):
    found = get_store().flow_source(flow_id, version)
    if found is None:
        abort(404)
    return _download(found[1], f"{flow_id}-v{version}.yaml")


@bp.post("/<flow_id>/upload")
@studio_only
def upload(flow_id: str):
    """A flow file replaces the draft (or starts one), only when it loads without errors:
    an upload that does not changes nothing and says what is wrong."""
    _flow_exists(flow_id)
    form = studio_forms.UploadForm()
    problems, text = [], None
    if not form.validate_on_submit():
        problems = [gettext("Choose a flow file (.yaml) to upload")]
    else:
        raw = form.file.data.read(UPLOAD_MAX + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = [gettext("The file is not UTF-8 text: save it as UTF-8 and try again")]
        if len(raw) > UPLOAD_MAX:
            problems = [gettext("The file is too big for a flow")]
        elif text is not None:
            result = drafting.check(text, flow_id)
            problems = [str(p) for p in result.errors]
    if not problems:
        draft = drafting.get(flow_id)
        try:
            drafting.save(flow_id, text, draft.revision if draft else None)
        except store.DraftClash:
            problems = [gettext("The draft was changed by someone else meanwhile: nothing "
                                "was changed. Upload again.")]
    if problems:
        return _flow_page(flow_id, form, problems)
    flash(gettext("The file is now the draft."))
    return redirect(url_for("studio.flow", flow_id=flow_id), 303)


# ---------------------------------------------------------------- preview


@bp.route("/<flow_id>/draft/preview/", methods=["GET", "POST"])
@bp.route("/<flow_id>/draft/preview/<step_id>", methods=["GET", "POST"])
@studio_only
def preview(flow_id: str, step_id: str | None = None):
    """A step of the draft as a family sees it, in any of its languages (`in=`: `lang=`
    would change the staff member's own language), with sample answers kept in their cookie
    session: "Continue" follows the branches those answers choose."""
    draft = drafting.get_or_404(flow_id)
    flow = draft.checked.flow
    if flow is None:
        return render_template("studio/preview.html", flow_id=flow_id, flow=None,
                               checked=draft.checked), 422
    lang = request.args.get("in")
    if lang not in i18n.LANGUAGES:
        lang = flow.default_language
    if request.method == "POST" and request.form.get("reset"):
        publishing.set_samples(flow_id, {})
        return redirect(url_for("studio.preview", flow_id=flow_id, **{"in": lang}), 303)
    samples = publishing.samples(flow)
    j = engine.journey(flow, samples)
    current = flow.step(step_id) if step_id else (j.steps[0] if j.steps else None)
    if current is None:
        abort(404)
    with i18n.speaking(lang):
        form = forms.step_form(flow, j, current, samples,
                               formdata=request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            samples = {**samples, **form.data}
            publishing.set_samples(flow_id, samples)
            following = engine.next_step(engine.journey(flow, samples), current.id)
            return redirect(url_for("studio.preview", flow_id=flow_id, **{"in": lang},
                                    step_id=following.id if following else None,
                                    **({} if following else {"end": 1})), 303)
        number, total = engine.progress(j, current.id) if j.is_visible(current.id) else (0, 0)
        # The family's step page, rendered by our own template (escaped there): shown as is.
        phone = Markup(render_template(
            "studio/preview_step.html", flow=flow, step=current, fields=form.visible(),
            summary=form.summary(), number=number, total=total, flow_id=flow_id, lang=lang))
        # The sample answers as the review page reads them ("No", not False).
        tried = [{"id": f.id, "label": i18n.plain(f.label, flow.default_language),
                  "value": display.display(flow, f, samples[f.id])}
                 for step in flow.steps for f in step.fields if f.id in samples]
        _name, tag, direction = i18n.LANGUAGES[lang]
    return render_template(
        "studio/preview.html", flow=flow, flow_id=flow_id, step=current, phone=phone,
        phone_tag=tag, phone_dir=direction, visible=j.is_visible(current.id),
        journey=j, lang=lang, samples=tried, end=request.args.get("end") == "1",
        checked=draft.checked), 422 if form.errors else 200


# ---------------------------------------------------------------- publishing


@bp.route("/<flow_id>/draft/publish", methods=["GET", "POST"])
@studio_only
def publish(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    plan = publishing.plan_for(draft)
    posted = request.form if request.method == "POST" else None
    form = studio_forms.publish_form(plan, posted, revision=draft.revision,
                                     ask_mapping=plan is not None and plan.open_count > 0)
    clash = None
    if posted is not None and plan is not None and form.validate():
        try:
            if form.revision.data != draft.revision:
                # Someone changed the draft after this page showed what would be published.
                raise store.DraftClash(get_store().draft(flow_id))
            version, moved = publishing.publish(draft, plan, form.mapping(),
                                                form.move.data == "move")
        except store.DraftClash as exc:
            clash = exc.current or {}
        else:
            flash(gettext("Published version %(version)d.", version=version)
                  + (" " + gettext("%(count)d open session(s) moved to it.", count=moved)
                     if moved else ""))
            return redirect(url_for("studio.flow", flow_id=flow_id), 303)
    status = 409 if clash is not None else 422 if posted is not None else 200
    return render_template(
        "studio/publish.html", flow_id=flow_id, draft=draft, checked=draft.checked, plan=plan,
        form=form, clash=clash, changes_text=publishing.sentences,
        summary=form.summary()), status
