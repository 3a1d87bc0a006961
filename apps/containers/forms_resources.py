"""Forms for images, volumes, networks and registry credentials.

Forms only parse and shape input; the request_* services validate the values that matter
(references, names, subnets) and raise ValidationError with field names, which `submit()`
turns into field errors, so page, API and admin share one set of rules.
"""

from __future__ import annotations

import tarfile
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .models import Container, RegistryCredential
from .registries import validate_registry

KEY_RE_HELP = "One KEY=VALUE per line."


def parse_pairs(text: str, what: str = "label") -> dict[str, str]:
    """KEY=VALUE lines -> dict; blank lines are skipped; a line without '=' is an error."""
    out = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"Line {number}: write each {what} as KEY=VALUE.")
        out[key.strip()] = value.strip()
    return out


class PairsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args, what: str = "label", **kwargs):
        self.what = what
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", KEY_RE_HELP)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        return parse_pairs(super().clean(value), self.what)


class HostField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_status_display()})"


class ResourceForm(forms.Form):
    """A form whose submit() calls a service; the service's ValidationError lands on fields."""

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.team = user, team
        if "host" in self.fields:
            hosts = DockerHost.objects.for_user(user, Action.OPERATE)
            self.fields["host"].queryset = hosts.filter(team=team) if team is not None else hosts

    def submit(self):
        """Run the service with cleaned data; None (with errors added) when it refused the input."""
        if not self.is_valid():
            return None
        try:
            return self.perform(self.cleaned_data)
        except ValidationError as exc:
            self.add_service_errors(exc)
            return None

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)

    def perform(self, data):
        raise NotImplementedError


# --- images -----------------------------------------------------------------------------------

class ImagePullForm(ResourceForm):
    host = HostField(queryset=DockerHost.objects.none())
    reference = forms.CharField(max_length=500, help_text="e.g. registry.example.com:5000/team/app:1.0 — credentials of your team are used for that registry.")

    def perform(self, data):
        from . import images

        return images.request_pull(self.user, data["host"], data["reference"])


class ImageBuildForm(ResourceForm):
    host = HostField(queryset=DockerHost.objects.none())
    tag = forms.CharField(max_length=300, required=False, help_text="Name for the image, e.g. team/app:dev")
    dockerfile_text = forms.CharField(label="Dockerfile", required=False, widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
                                      help_text="Either write a Dockerfile here…")
    context = forms.FileField(label="Build context", required=False, help_text="…or upload a context archive (.tar or .tar.gz) that holds one.")
    dockerfile = forms.CharField(label="Dockerfile path", max_length=300, required=False, help_text="Inside the context (default: Dockerfile).")
    buildargs = PairsField(label="Build arguments", what="build argument")

    def clean_dockerfile_text(self):
        text = self.cleaned_data["dockerfile_text"]
        if len(text.encode()) > 64 * 1024:
            raise ValidationError("A Dockerfile of more than 64 KB: upload a context archive instead.")
        return text

    def clean_context(self):
        upload = self.cleaned_data.get("context")
        return validate_context_archive(upload) if upload is not None else None

    def clean(self):
        data = super().clean()
        if bool(data.get("dockerfile_text")) == bool(data.get("context")):
            raise ValidationError("Write a Dockerfile or upload a build context — one of the two.")
        return data

    def perform(self, data):
        from . import images

        context_file = ""
        if data.get("context"):
            context_file = save_context(data["context"])
        try:
            return images.request_build(self.user, data["host"], tag=data["tag"], buildargs=data["buildargs"], dockerfile=data["dockerfile"],
                                        dockerfile_text=data["dockerfile_text"], context_file=context_file)
        except ValidationError:
            if context_file:
                (images.build_context_dir() / context_file).unlink(missing_ok=True)
            raise


def validate_context_archive(upload, field: str | None = None):
    """A readable .tar/.tar.gz within the size limit; ValidationError (on `field`) otherwise."""
    def fail(message):
        raise ValidationError({field: message} if field else message)

    if upload.size > settings.BUILD_CONTEXT_MAX_BYTES:
        fail(f"The archive is larger than {settings.BUILD_CONTEXT_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        upload.seek(0)
        with tarfile.open(fileobj=upload, mode="r:*") as tar:
            tar.getmembers()
    except (tarfile.TarError, EOFError, OSError):
        fail("Not a tar archive (.tar or .tar.gz).")
    upload.seek(0)
    return upload


def save_context(upload) -> str:
    """Store an uploaded context where the worker reads it; returns its bare file name."""
    from .images import build_context_dir

    name = f"{uuid.uuid4().hex}.tar"
    with (build_context_dir() / name).open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return name


class ImageTagForm(ResourceForm):
    repository = forms.CharField(max_length=255, help_text="e.g. registry.example.com/team/app")
    tag = forms.CharField(max_length=128, required=False, help_text="Default: latest")

    def __init__(self, *args, image=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.image = image

    def perform(self, data):
        from . import images

        return images.request_tag(self.user, self.image, data["repository"], data["tag"])


class ImageRemoveForm(ResourceForm):
    force = forms.BooleanField(required=False, help_text="Also remove it when containers use it or it has several tags.")

    def __init__(self, *args, image=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.image = image

    def perform(self, data):
        from . import images

        return images.request_remove(self.user, self.image, force=data["force"])


class ImagePruneForm(ResourceForm):
    host = HostField(queryset=DockerHost.objects.none())
    all = forms.BooleanField(required=False, label="All unused images", help_text="Not only dangling (untagged) ones.")

    def perform(self, data):
        from . import images

        return images.request_prune(self.user, data["host"], all_unused=data["all"])


# --- volumes ----------------------------------------------------------------------------------

class VolumeForm(ResourceForm):
    host = HostField(queryset=DockerHost.objects.none())
    name = forms.CharField(max_length=255, required=False, help_text="Leave blank for a generated name.")
    driver = forms.CharField(max_length=100, initial="local")
    driver_opts = PairsField(label="Driver options", what="option")
    labels = PairsField()

    def perform(self, data):
        from . import volumes

        return volumes.request_create(self.user, data["host"], name=data["name"], driver=data["driver"], labels=data["labels"],
                                      driver_opts=data["driver_opts"])


class VolumeRemoveForm(ResourceForm):
    force = forms.BooleanField(required=False)

    def __init__(self, *args, volume=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.volume = volume

    def perform(self, data):
        from . import volumes

        return volumes.request_remove(self.user, self.volume, force=data["force"])


class HostOnlyForm(ResourceForm):
    host = HostField(queryset=DockerHost.objects.none())

    def __init__(self, *args, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service

    def perform(self, data):
        return self.service(self.user, data["host"])


# --- networks ---------------------------------------------------------------------------------

class NetworkForm(ResourceForm):
    DRIVERS = [("bridge", "bridge"), ("overlay", "overlay"), ("macvlan", "macvlan"), ("ipvlan", "ipvlan")]

    host = HostField(queryset=DockerHost.objects.none())
    name = forms.CharField(max_length=255)
    driver = forms.ChoiceField(choices=DRIVERS, initial="bridge")
    subnet = forms.CharField(max_length=50, required=False, help_text="CIDR, e.g. 172.28.0.0/16 (optional)")
    gateway = forms.CharField(max_length=50, required=False)
    internal = forms.BooleanField(required=False, help_text="No access to outside networks.")
    attachable = forms.BooleanField(required=False)
    labels = PairsField()

    def perform(self, data):
        from . import networks

        return networks.request_create(self.user, data["host"], name=data["name"], driver=data["driver"], subnet=data["subnet"],
                                       gateway=data["gateway"], internal=data["internal"], attachable=data["attachable"], labels=data["labels"])


class NetworkConnectForm(ResourceForm):
    container = forms.ModelChoiceField(queryset=Container.objects.none())
    aliases = forms.CharField(required=False, help_text="Space- or comma-separated DNS aliases on this network.")

    def __init__(self, *args, network=None, disconnect=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.network, self.disconnect = network, disconnect
        qs = Container.objects.for_user(self.user).filter(host_id=network.host_id, removed_at__isnull=True).defer("inspect")
        attached = list((network.attached or {}).keys())
        self.fields["container"].queryset = qs.filter(docker_id__in=attached) if disconnect else qs.exclude(docker_id__in=attached)
        if disconnect:
            del self.fields["aliases"]

    def perform(self, data):
        from . import networks

        if self.disconnect:
            return networks.request_disconnect(self.user, self.network, data["container"])
        aliases = [a for a in data["aliases"].replace(",", " ").split() if a]
        return networks.request_connect(self.user, self.network, data["container"], aliases)


# --- registry credentials ---------------------------------------------------------------------

class WriteOnlyPasswordMixin:
    """The password is never rendered back; blank on edit keeps the stored one."""

    def clean_password(self):
        value = self.cleaned_data.get("password", "")
        if not value:
            if self.instance.pk:
                return self.instance.password
            raise ValidationError("A password or access token is required.")
        return value


def password_field() -> forms.CharField:
    return forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, strip=False,
                           help_text="Password or access token. Leave blank to keep the stored one.")


class RegistryCredentialForm(WriteOnlyPasswordMixin, forms.ModelForm):
    """The portal's form: the team is the page's team."""

    password = password_field()

    class Meta:
        model = RegistryCredential
        fields = ["registry", "username", "password"]

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team or getattr(self.instance, "team", None)

    def clean_registry(self):
        address = validate_registry(self.cleaned_data["registry"])
        clash = RegistryCredential.objects.filter(team=self.team, registry=address).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("Your team already has a credential for this registry: edit that one.")
        return address

    def save(self, commit=True):
        self.instance.team = self.team
        return super().save(commit)


class RegistryCredentialAdminForm(WriteOnlyPasswordMixin, forms.ModelForm):
    """The admin's form (team chosen among the user's teams), same validation as the portal."""

    password = password_field()

    class Meta:
        model = RegistryCredential
        fields = ["team", "registry", "username", "password"]

    def clean_registry(self):
        return validate_registry(self.cleaned_data["registry"])
