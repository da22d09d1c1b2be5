"""Staff's translations of a flow's draft: every text with its translation side by side,
missing and out-of-date ones marked, edited in place; PO catalogs out and in per language
through the same code as `wizard i18n` (flow/translations.py).

Saving never overwrites someone else's work silently. The table posts every text shown, each
with a digest of the translation it showed: only texts whose digest no longer matches are the
person's edits, and only those are written. A save names the draft revision its page showed;
when someone saved since, nothing is saved and the page comes back on the newest draft with
the person's edits typed in again, marking those that someone else changed too, to be saved
again knowingly.

The target language travels as `to=`, never `lang=`: on helpers' pages `lang=` changes the
person's own interface language.
"""

from __future__ import annotations

import hashlib

from babel.messages.pofile import PoFileError
from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from ruamel.yaml.error import YAMLError

from .. import drafting, get_store, i18n, security, store
from ..drafting import studio_only
from ..flow import translations
from ..flow.fieldtypes import N_
from ..forms import PageForm
from ..studio_forms import RevisionField

bp = drafting.blueprint("studio_text")

# A translator's PO file of a big flow (its body limit is drafting.STUDIO_BODY_MAX).
PO_MAX = 1024 * 1024

# Row states the table marks for attention, and their words (never colour alone).
FLAGGED = ("missing", "outdated")
STATE_WORDS = {"missing": N_("Missing"), "outdated": N_("Out of date"),
               "same": N_("Same as the original"), "ok": N_("Translated")}
ONLY_TODO = "todo"




class PoUploadForm(PageForm):
    file = FileField(N_("A PO file"), validators=[FileRequired()])
    revision = RevisionField()


def _digest(text: str | None) -> str:
    """What the table remembers of a translation it showed (textareas send CRLF and may add
    or drop blanks at the ends; translations.apply reads text the same way)."""
    normal = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def _target(langs: list[str], asked: str | None = None) -> str:
    """The language asked for, else the flow's first language after its default, else the
    first language of the app that is not the flow's default."""
    default = langs[0]
    asked = asked or request.args.get("to")
    if asked in i18n.LANGUAGES and asked != default:
        return asked
    for code in [*langs[1:], *i18n.LANGUAGES]:
        if code in i18n.LANGUAGES and code != default:
            return code
    abort(404)  # pragma: no cover - LANGUAGES has more than one language


def _who(actor: str | None) -> str:
    """An actor ("user:3") as people know them: their name and login."""
    if actor and actor.startswith("user:"):
        user_id = security.whole_number(actor[len("user:"):])
        user = get_store().user(user_id) if user_id is not None else None
        if user is not None:
            return f"{user['name']} ({user['login']})"
    return actor or ""


def _clash_of(row: dict | None, upload: bool = False) -> dict:
    """What the page says when someone saved the draft since it was opened."""
    if row is None:
        return {"gone": True, "upload": upload}
    return {"gone": False, "upload": upload, "who": _who(row["updated_by"]),
            "when": i18n.format_moment(row["updated_at"])}


def _isolated(name: str, tag: str) -> Markup:
    """A language's name in itself inside an English sentence: isolated, so "In ئۇيغۇرچە"
    is not read (and shown) right to left as a whole."""
    return Markup('<bdi lang="{}">{}</bdi>').format(tag, name)


def _url(endpoint: str, flow_id: str, lang: str, **more) -> str:
    only = ONLY_TODO if request.args.get("only") == ONLY_TODO else None
    return url_for(endpoint, flow_id=flow_id, to=lang, only=only, **more)


def _page(draft: drafting.Draft | None, flow_id: str, status: int = 200, *,
          edits: dict[str, str] | None = None, seen: dict[str, str] | None = None,
          anchors: dict[str, str] | None = None, clash: dict | None = None,
          upload: PoUploadForm | None = None, to: str | None = None, **shown):
    """The translations page. edits/seen/anchors: after a refused save, the person's typed
    texts, the digests of what their page showed (kept, so saving again applies just their
    edits) and which texts they were, by key path of their page."""
    edits, seen = edits or {}, seen or {}
    if draft is None:  # published or thrown away meanwhile: what they typed, to copy
        return render_template(
            "studio/translations.html", flow_id=flow_id, draft=None, clash=clash,
            leftover=sorted(edits.items()), upload=upload or PoUploadForm(formdata=None),
            **shown), status
    try:
        langs = translations.languages(draft.source)
        lang = _target(langs, to)
        published = get_store().flow_source(flow_id)
        rows = translations.table(draft.source, lang, published[1] if published else None)
    except (YAMLError, ValueError, TypeError, AttributeError) as exc:
        # A draft that is not a flow yet cannot be tabled: the YAML editor fixes it.
        return render_template(
            "studio/translations.html", flow_id=flow_id, draft=draft, broken=str(exc),
            checked=draft.checked, clash=clash, leftover=sorted(edits.items()),
            upload=upload or PoUploadForm(formdata=None), **shown), \
            status if status != 200 else 422
    default = langs[0]
    edits, seen, leftover = _moved(rows, edits, seen, anchors or {})
    only = request.args.get("only") == ONLY_TODO
    counts = translations.counts(rows)
    lines = []
    for number, row in enumerate(rows):
        edited = row.path in edits
        if only and row.state not in FLAGGED and not edited:
            continue
        value = edits[row.path] if edited else row.translation
        lines.append({
            "row": row, "id": f"t-{number}", "flag": row.state in FLAGGED,
            "state_words": gettext(STATE_WORDS[row.state]), "value": value,
            "source_lines": row.source.rstrip("\n").split("\n"),
            "before_lines": row.before.rstrip("\n").split("\n") if row.before else None,
            # After a refused save: the digest of what their page showed, so saving again
            # writes their edit; and what someone else made of the same text meanwhile.
            "digest": seen.get(row.path, _digest(row.translation)) if edited
            else _digest(row.translation),
            "theirs": row.translation if edited and seen.get(row.path) != _digest(
                row.translation) else None,
            "rows": max(2, min(12, value.count("\n") + 2 + len(value) // 60)),
            "edited": edited})
    name, tag, direction = i18n.LANGUAGES[lang]
    source_name, source_tag, source_dir = i18n.LANGUAGES.get(
        default, (default, default.replace("_", "-"), "ltr"))
    return render_template(
        "studio/translations.html", flow_id=flow_id, draft=draft, checked=draft.checked,
        lang=lang, target={"code": lang, "name": _isolated(name, tag), "tag": tag,
                           "dir": direction},
        source={"code": default, "name": _isolated(source_name, source_tag), "tag": source_tag,
                "dir": source_dir},
        choices=[{"code": c, "name": n, "tag": t, "checked": c == lang}
                 for c, (n, t, _d) in i18n.LANGUAGES.items() if c != default],
        only=only, lines=lines, total=len(rows), missing=counts["missing"],
        outdated=counts["outdated"], same=counts["same"], published=published,
        clash=clash, retyped=any(line["edited"] for line in lines), leftover=sorted(leftover),
        upload=upload or PoUploadForm(formdata=None),
        save_url=_url("studio_text.save", flow_id, lang),
        upload_url=_url("studio_text.upload", flow_id, lang),
        export_url=url_for("studio_text.export", flow_id=flow_id, to=lang),
        **shown), status


def _moved(rows, edits: dict, seen: dict, anchors: dict):
    """The person's edits placed on the rows of a newer draft: by the text's anchor (steps
    and fields by id), since someone may have moved steps, which changes key paths; by key
    path when the page did not say or the anchor is not one text. Edits whose text is gone
    are left over, to be shown for copying."""
    if not edits:
        return edits, seen, []
    paths = {r.path for r in rows}
    by_anchor: dict[str, list[str]] = {}
    for r in rows:
        by_anchor.setdefault(r.anchor, []).append(r.path)
    placed, placed_seen, leftover = {}, {}, []
    for old, text in edits.items():
        anchor = anchors.get(old)
        if anchor:  # a draft with a step id twice has one anchor twice: then the path
            found = by_anchor.get(anchor, [])
            new = found[0] if len(found) == 1 else old if old in found else None
        else:
            new = old if old in paths else None
        if new is None or new in placed:
            leftover.append((old, text))
            continue
        placed[new] = text
        if old in seen:
            placed_seen[new] = seen[old]
    return placed, placed_seen, leftover


@bp.get("/<flow_id>/draft/translations")
@studio_only
def table(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    return _page(draft, flow_id, saved=security.whole_number(request.args.get("saved")))


@bp.post("/<flow_id>/draft/translations")
@studio_only
def save(flow_id: str):
    typed = {name[2:]: text for name, text in request.form.items() if name.startswith("t:")}
    seen = {name[2:]: text for name, text in request.form.items() if name.startswith("h:")}
    anchors = {name[2:]: text for name, text in request.form.items() if name.startswith("a:")}
    edits = {path: text for path, text in typed.items() if _digest(text) != seen.get(path)}
    revision = security.whole_number(request.form.get("revision"))
    draft = drafting.get(flow_id)
    if draft is None:
        if not get_store().flow_source(flow_id):
            abort(404)
        return _page(None, flow_id, 409, edits=edits, seen=seen, anchors=anchors,
                     clash=_clash_of(None))
    if revision is None:
        abort(400)
    if revision != draft.revision:
        return _page(draft, flow_id, 409, edits=edits, seen=seen, anchors=anchors,
                     clash=_clash_of(get_store().draft(flow_id)))
    try:
        lang = _target(translations.languages(draft.source))
        text = translations.apply(draft.source, lang, edits)
    except (YAMLError, ValueError):
        abort(400)  # the page showed this revision's texts: only a forged post gets here
    if text != draft.source:
        try:
            drafting.save(flow_id, text, revision)
        except store.DraftClash as exc:
            return _page(drafting.get(flow_id), flow_id, 409, edits=edits, seen=seen,
                         anchors=anchors, clash=_clash_of(exc.current))
    return redirect(_url("studio_text.table", flow_id, lang, saved=len(edits)), 303)


@bp.get("/<flow_id>/draft/translations.po")
@studio_only
def export(flow_id: str):
    draft = drafting.get_or_404(flow_id)
    try:
        lang = _target(translations.languages(draft.source))
        po = translations.export_po(draft.source, lang)
    except (YAMLError, ValueError, TypeError, AttributeError, KeyError):
        return _page(draft, flow_id, 422)
    return Response(po, mimetype="text/x-gettext-translation", headers={
        "Content-Disposition": f'attachment; filename="{flow_id}-{lang}.po"'})


@bp.post("/<flow_id>/draft/translations.po")
@studio_only
def upload(flow_id: str):
    """A PO file's translations into the draft, only as a whole: a file that cannot be read,
    is for another flow or language, or would stop the flow loading changes nothing."""
    draft = drafting.get_or_404(flow_id)
    form = PoUploadForm()
    problems, result = _imported(draft, form)
    if problems:
        return _page(draft, flow_id, 422, upload=form, upload_problems=problems)
    if form.revision.data != draft.revision:
        return _page(draft, flow_id, 409, upload=form,
                     clash=_clash_of(get_store().draft(flow_id), upload=True))
    if result.updated:
        try:
            drafting.save(flow_id, result.text, draft.revision)
        except store.DraftClash as exc:
            return _page(drafting.get(flow_id), flow_id, 409, upload=form,
                         clash=_clash_of(exc.current, upload=True))
        draft = drafting.get_or_404(flow_id)
    # Shown here, not after a redirect: the skipped entries can be many.
    return _page(draft, flow_id, upload=PoUploadForm(formdata=None), imported=result,
                 to=result.lang)


def _imported(draft: drafting.Draft, form: PoUploadForm):
    """(problems, import result): what is wrong with the uploaded file, or what it gives."""
    if not form.validate():
        if form.file.errors:
            return [gettext("Choose a PO file to upload")], None
        return [form.revision.errors[0]], None
    raw = form.file.data.read(PO_MAX + 1)
    if len(raw) > PO_MAX:
        return [gettext("The file is too big for a PO file of one flow (1 MB at most)")], None
    try:
        po_text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [gettext("The file is not UTF-8 text: save it as UTF-8 and try again")], None
    try:
        langs = translations.languages(draft.source)
    except (YAMLError, ValueError, TypeError, AttributeError):
        return [gettext("The draft is not a flow yet: fix it in the YAML editor first")], None
    try:
        translations.check_po(po_text)
        lang = translations.catalog_language(po_text)
        named = translations.catalog_flow(po_text)
    except (PoFileError, ValueError) as exc:  # babel: ValueError for a bad Language header
        return [gettext("This is not a PO file that can be read: %(detail)s",
                        detail=str(exc))], None
    if named is not None and named != draft.flow_id:
        return [gettext("This file is for the flow %(other)s, not %(flow)s: nothing was "
                        "imported", other=named, flow=draft.flow_id)], None
    if not lang:
        return [gettext("The file has no Language header, so it cannot tell which language "
                        "it is in")], None
    if lang not in i18n.LANGUAGES:
        return [gettext("The file is in %(lang)s, which this service does not offer (it "
                        "offers %(codes)s)", lang=lang,
                        codes=", ".join(i18n.LANGUAGES))], None
    if lang == langs[0]:
        return [gettext("The file is in %(lang)s, the flow's own language: change those "
                        "texts in the draft itself", lang=lang)], None
    try:
        result = translations.import_po(draft.source, po_text)
    except (PoFileError, ValueError, YAMLError) as exc:
        return [str(exc)], None
    before = {(p.path, p.message) for p in draft.checked.errors}
    after = drafting.check(result.text, draft.flow_id).errors
    new = [p for p in after if (p.path, p.message) not in before]
    if new:
        return [gettext("With these translations the flow would not load: nothing was "
                        "imported.")] + [str(p) for p in new], None
    return [], result
