from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from scorers import services
from scorers.models import Scorer
from sharing.admin import SharedObjectAdmin


class ScorerAdminForm(forms.ModelForm):
    viewer = None  # the admin user, set by ScorerAdmin.get_form

    class Meta:
        model = Scorer
        fields = ["name", "instructions", "answer_kind", "endpoint"]

    def clean(self):
        data = super().clean()
        if "instructions" in data:
            stored = Scorer.objects.filter(pk=self.instance.pk).values_list("endpoint_id", flat=True).first()
            try:
                services.check_fields(data["instructions"], stored, self.viewer, data.get("endpoint"))
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Scorer)
class ScorerAdmin(SharedObjectAdmin):
    """Scorers in the admin, saved and deleted through ``scorers.services`` (bindings and audit follow)."""

    form = ScorerAdminForm
    list_display = ["name", "answer_kind", "endpoint", "created_by", "created_at"]
    list_filter = ["answer_kind"]
    search_fields = ["name", "instructions"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"viewer": request.user})

    def save_model(self, request, obj, form, change) -> None:
        # The form checked the service's rules (ScorerAdminForm.clean).
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        if change:
            saved = services.update_scorer(Scorer.objects.get(pk=obj.pk), actor=request.user, **fields)
        else:
            saved = services.create_scorer(actor=request.user, **fields)
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request, form, formsets, change) -> None:
        pass  # nothing related: the binding follows the endpoint in scorers.services

    def delete_model(self, request, obj) -> None:
        services.delete_scorer(obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for scorer in queryset:
            services.delete_scorer(scorer, actor=request.user)
