"""Forms of the archive pages (8.1.2). They parse and type the input; every rule lives in the services,
whose ApplicationError the views put next to the field it names.

The record form is one class per kind of record (材料 of any class, or a structured record with its
details); `detail_fields` lists the fields that go to the service as `details`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from shegong.archives.models import ArchiveRecord
from shegong.archives.rules import archive_rules
from shegong.common.codes import EDUCATION
from shegong.common.forms import DateInput, VersionField

# ISO format: a browser's date input ignores any other (the zh-hans default renders 2024/03/01).
DATE = DateInput()
NUMERALS = "一二三四五六七八九十"


def class_label(number: int, name: str) -> str:
    return f"{NUMERALS[number - 1]}、{name}" if 1 <= number <= 10 else name


def class_choices() -> list[tuple[str, str]]:
    return [(str(n), class_label(n, name)) for n, name in archive_rules().classes.items()]


def required_item_choices() -> list[tuple[str, str]]:
    rules = archive_rules()
    return [("", "— 不是必备材料 —")] + [
        (item.code, f"{item.name}(第{NUMERALS[item.archive_class - 1]}类)") for item in rules.required]


def _max_size_label() -> str:
    return f"{archive_rules().max_bytes // 2**20} MB"


class ScanField(forms.FileField):
    """A scan of an archive document. The type and the size rule are the service's (by content, not by
    name); the form only refuses an upload too large to read into memory, with the rule's words."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "扫描件")
        kwargs.setdefault("help_text", f"PDF、JPEG 或 PNG,不超过 {_max_size_label()};按文件内容识别类型")
        kwargs.setdefault("error_messages", {"required": "请选择要上传的扫描件"})
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        value = super().clean(data, initial)
        limit = archive_rules().max_bytes
        if isinstance(value, UploadedFile) and value.size is not None and value.size > limit:
            raise forms.ValidationError(
                f"文件“{value.name}”有 {value.size / 2**20:.1f} MB,超过 {limit // 2**20} MB 的上限")
        return value


def read_scan(upload: UploadedFile) -> bytes:
    """The uploaded bytes (the field has already refused anything over the size limit)."""
    upload.seek(0)
    return upload.read(archive_rules().max_bytes + 1)


class RecordForm(forms.Form):
    """The catalogue fields every record has, and an optional scan uploaded with it."""

    kind: ClassVar[str] = ArchiveRecord.Kind.DOCUMENT
    detail_fields: ClassVar[tuple[str, ...]] = ()
    title_help: ClassVar[str] = "留空则按内容自动生成"
    date_help: ClassVar[str] = ""

    title = forms.CharField(label="材料名称", max_length=200, required=False)
    date = forms.DateField(label="材料日期", required=False, widget=DATE)
    issuer = forms.CharField(label="形成单位", max_length=200, required=False,
                             help_text="形成或出具材料的单位")
    required_item = forms.ChoiceField(label="必备材料", required=False,
                                      help_text="这份材料是档案必备的哪一项(带扫描件才算齐备)")
    notes = forms.CharField(label="备注", max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))
    scan = ScanField(required=False, help_text=f"可选;PDF、JPEG 或 PNG,不超过 {_max_size_label()}")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["required_item"]).choices = required_item_choices()
        self.fields["title"].help_text = self.title_help
        if self.date_help:
            self.fields["date"].help_text = self.date_help
        self.order_fields(["archive_class", *self.detail_fields, "title", "date", "issuer", "required_item",
                           "notes", "scan"])

    def record_data(self) -> dict[str, Any]:
        """The catalogue fields for record_create (empty values left out, so the service's defaults apply)."""
        data = self.cleaned_data
        out: dict[str, Any] = {k: data[k] for k in ("title", "issuer", "notes", "required_item") if data.get(k)}
        if data.get("date"):
            out["date"] = data["date"]
        if "archive_class" in self.fields:
            out["archive_class"] = data["archive_class"]
        return out

    def details(self) -> dict[str, Any]:
        """The detail fields; empty ones are left out (e.g. a sanction's end date is then computed)."""
        data = self.cleaned_data
        return {k: data[k] for k in self.detail_fields if data.get(k) not in (None, "")
                or isinstance(self.fields[k], forms.BooleanField)}


class DocumentForm(RecordForm):
    kind = ArchiveRecord.Kind.DOCUMENT
    title_help = "例如:居民身份证复印件、社区工作者登记表"

    archive_class = forms.ChoiceField(label="档案类别", help_text="干部人事档案的十大类")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["archive_class"]).choices = [("", "—"), *class_choices()]
        self.fields["title"].required = True


class EducationForm(RecordForm):
    kind = ArchiveRecord.Kind.EDUCATION
    detail_fields = ("school", "major", "level", "degree", "full_time", "start_date", "end_date")
    date_help = "留空则取毕业日期"

    school = forms.CharField(label="学校", max_length=100)
    major = forms.CharField(label="专业", max_length=100, required=False)
    level = forms.ChoiceField(label="学历", choices=[("", "—"), *EDUCATION.choices], help_text="GB/T 4658")
    degree = forms.CharField(label="学位", max_length=40, required=False, help_text="例如:学士、硕士")
    full_time = forms.BooleanField(label="全日制", required=False, initial=True)
    start_date = forms.DateField(label="入学日期", required=False, widget=DATE)
    end_date = forms.DateField(label="毕业日期", required=False, widget=DATE)


class WorkForm(RecordForm):
    kind = ArchiveRecord.Kind.WORK
    detail_fields = ("organisation", "position", "start_date", "end_date")
    date_help = "留空则取起始日期"

    organisation = forms.CharField(label="工作单位", max_length=200)
    position = forms.CharField(label="职务", max_length=100, required=False)
    start_date = forms.DateField(label="起始日期", widget=DATE)
    end_date = forms.DateField(label="截止日期", required=False, widget=DATE, help_text="留空:至今")


class QualificationForm(RecordForm):
    kind = ArchiveRecord.Kind.QUALIFICATION
    detail_fields = ("level", "certificate_no", "obtained_on", "registered_on", "hours_done")
    date_help = "留空则取取得日期"

    level = forms.ChoiceField(label="等级")
    certificate_no = forms.CharField(label="证书编号", max_length=60)
    obtained_on = forms.DateField(label="取得日期", widget=DATE)
    registered_on = forms.DateField(label="登记日期", required=False, widget=DATE,
                                    help_text="登记有效期按规则计算,到期前提醒再登记")
    hours_done = forms.IntegerField(label="本周期已完成继续教育学时", required=False, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        levels = archive_rules().qualification_hours
        cast(forms.ChoiceField, self.fields["level"]).choices = [("", "—")] + [
            (name, f"{name}(每周期 {hours} 学时)") for name, hours in levels.items()]


class RewardForm(RecordForm):
    kind = ArchiveRecord.Kind.REWARD
    detail_fields = ("name", "level")

    name = forms.CharField(label="奖励名称", max_length=200)
    level = forms.CharField(label="奖励级别", max_length=40, required=False,
                            help_text="国家级、省级、市级、区级、街道级……")


class SanctionForm(RecordForm):
    kind = ArchiveRecord.Kind.SANCTION
    detail_fields = ("sanction_type", "start_date", "end_date", "lifted_on")
    date_help = "留空则取处分期起"

    sanction_type = forms.ChoiceField(label="处分种类")
    start_date = forms.DateField(label="处分期起", widget=DATE)
    end_date = forms.DateField(label="处分期止", required=False, widget=DATE, help_text="留空则按处分种类的期限计算")
    lifted_on = forms.DateField(label="解除日期", required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        months = archive_rules().sanction_months
        cast(forms.ChoiceField, self.fields["sanction_type"]).choices = [("", "—")] + [
            (name, f"{name}({n} 个月)" if n else f"{name}(直至解除)") for name, n in months.items()]


RECORD_FORMS: dict[str, type[RecordForm]] = {
    f.kind: f for f in (DocumentForm, EducationForm, WorkForm, QualificationForm, RewardForm, SanctionForm)
}


def _norm(value: Any) -> str:
    """A value as the change check compares it: text stripped with \\n line ends (a browser posts CR LF),
    dates in ISO, a yes/no as 1 or "", nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


CATALOGUE_FIELDS = ("archive_class", "title", "date", "issuer", "required_item", "notes")


def record_initial(record: ArchiveRecord) -> dict[str, Any]:
    """A record (and its details) in the edit form's terms."""
    values: dict[str, Any] = {name: getattr(record, name) for name in CATALOGUE_FIELDS}
    values["archive_class"] = str(record.archive_class)
    detail = getattr(record, record.kind, None) if record.kind != ArchiveRecord.Kind.DOCUMENT else None
    for name in RECORD_FORMS[record.kind].detail_fields:
        values[name] = getattr(detail, name, None) if detail is not None else None
    values["row_version"] = record.row_version
    return values


class RecordEditForm(forms.Form):
    """What editing adds to a record form: the reason kept in history and the version the form was filled
    from; no scan (scans are uploaded on the record page). The reason is required only when something
    changed: a form saved as shown changes nothing and needs none."""

    reason = forms.CharField(label="修改原因", max_length=200,
                             error_messages={"required": "请填写修改原因:它记入这份材料的变更记录"},
                             help_text="记入变更记录,例如:按本人更正申请更正毕业日期")
    row_version = VersionField()

    kind: ClassVar[str]
    detail_fields: ClassVar[tuple[str, ...]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("scan", None)
        self.fields["title"].required = True
        self.fields["title"].help_text = ""
        self.fields["date"].help_text = ""
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and "reason" in self.errors and not self.changed():
            del self.errors["reason"]

    def changed(self) -> list[str]:
        """The fields whose value differs from the record's (compared as text: dates ISO, line ends \\n)."""
        data = getattr(self, "cleaned_data", {})
        return [name for name in self.fields if name not in ("reason", "row_version") and name in data
                and _norm(data[name]) != _norm(self.initial.get(name))]

    def changes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(catalogue fields, detail fields) that changed, for services.record_update (None clears)."""
        data = self.cleaned_data
        record: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for name in self.changed():
            (details if name in self.detail_fields else record)[name] = data[name]
        return record, details


def _edit_form(form_class: type[RecordForm]) -> type[RecordForm]:
    return cast(type[RecordForm], type(f"{form_class.__name__}Edit", (RecordEditForm, form_class), {}))


EDIT_FORMS: dict[str, type[RecordForm]] = {kind: _edit_form(f) for kind, f in RECORD_FORMS.items()}


class UploadForm(forms.Form):
    scan = ScanField()


class VoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=500,
                             error_messages={"required": "作废原因不能为空"},
                             widget=forms.TextInput(attrs={"placeholder": "为什么作废这份材料"}),
                             help_text="材料不会删除:作废后仍保留在档案中,划线显示并注明原因")


class TransferForm(forms.Form):
    """The target community comes from the division cascader (the view passes its deepest choice)."""

    to_community = forms.CharField(label="转入社区", max_length=12, error_messages={"required": "请选择转入社区"})
    date = forms.DateField(label="转递日期", widget=DATE)
    reason = forms.CharField(label="转递原因", max_length=300, error_messages={"required": "转递原因不能为空"},
                             widget=forms.TextInput(attrs={"placeholder": "例如:工作调动"}))


class CorrectionForm(forms.Form):
    text = forms.CharField(label="需要更正的内容", max_length=2000,
                           error_messages={"required": "请写明需要更正的内容"},
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": "写明哪一项不对、应当是什么"}))
    record = forms.ChoiceField(label="涉及材料", required=False)

    def __init__(self, *args: Any, records: list[ArchiveRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["record"]).choices = [("", "— 不涉及具体材料 —")] + [
            (str(r.pk), f"第{NUMERALS[r.archive_class - 1]}类 · {r.title}") for r in records if not r.is_voided]


class DecisionForm(forms.Form):
    """采纳 or 不予采纳, chosen on purpose (no default), with the reason the worker reads."""

    decision = forms.ChoiceField(label="处理结果", choices=[("", "— 请选择 —"), ("accept", "采纳"),
                                                        ("reject", "不予采纳")],
                                 error_messages={"required": "请选择处理结果:采纳或不予采纳",
                                                 "invalid_choice": "请选择处理结果:采纳或不予采纳"})
    reason = forms.CharField(label="处理意见", max_length=500,
                             error_messages={"required": "请填写处理意见(采纳或不采纳的理由)"},
                             widget=forms.TextInput(attrs={"placeholder": "采纳或不予采纳的理由,本人可见"}))
    row_version = VersionField()
