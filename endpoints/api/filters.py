from __future__ import annotations

import django_filters
from django.db.models import Q

from endpoints.models import Endpoint, EndpointType, Status


class EndpointFilterSet(django_filters.FilterSet):
    """Search by name/description, filter by type and status."""

    search = django_filters.CharFilter(method="filter_search", label="Name or description contains")
    endpoint_type = django_filters.ChoiceFilter(choices=EndpointType.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Endpoint
        fields = ["search", "endpoint_type", "status"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
