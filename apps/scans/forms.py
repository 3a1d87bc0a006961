from django import forms

from .models import AuditExclusion, Policy, Suppression

MAX_UPLOAD = 512 * 1024 * 1024


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = ["name", "rule", "severity", "enforcement", "enabled"]


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ["vulnerability_id", "package", "image_repo", "reason", "expires_at"]
        widgets = {"expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 3:
            raise forms.ValidationError("Say why this finding is suppressed.")
        return reason


class AuditExclusionForm(forms.ModelForm):
    class Meta:
        model = AuditExclusion
        fields = ["check_id", "container_name", "reason"]


class DatabaseUploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text="An OSV JSON record, a JSON list of records, or a zip of them")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 512 MB.")
        head = upload.read(2)
        upload.seek(0)
        if head not in (b"PK",) and head[:1] not in (b"{", b"["):
            raise forms.ValidationError("Upload OSV JSON or a zip of OSV JSON files.")
        return upload
